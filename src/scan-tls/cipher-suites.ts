/**
 * The TLS cipher suites the prober offers, keyed by their IANA code point (IANA "TLS Cipher Suites"
 * registry, RFC 5246 appendix A.5, RFC 4492, RFC 5289, RFC 7905, RFC 8446 B.4), plus the pre-standard
 * EXPORT1024 suites (0x0060-0x0066) that old servers still answer. Only names are listed by hand: every
 * property the scanner reasons about (export, anonymous, NULL, RC4, 3DES, CBC, forward secrecy, bits) is
 * derived from the IANA name, so the table cannot disagree with itself.
 */

export type KeyExchange = "RSA" | "DH" | "DHE" | "ECDH" | "ECDHE" | "PSK" | "SRP" | "TLS13";

export interface CipherSuite {
  id: number;
  /** IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256. */
  name: string;
  /** Key exchange family (TLS13: negotiated separately, always ephemeral). */
  kx: KeyExchange;
  /** Authentication, e.g. RSA, ECDSA, DSS, anon, PSK. */
  auth: string;
  /** Bulk cipher as named by IANA, e.g. AES_128_GCM, 3DES_EDE_CBC, RC4_128, NULL. */
  cipher: string;
  /** Effective symmetric strength in bits (3DES: 112; NULL: 0). */
  bits: number;
  export: boolean;
  anonymous: boolean;
  nullCipher: boolean;
  rc4: boolean;
  /** 64-bit block ciphers (DES, 3DES, IDEA, RC2): Sweet32. */
  block64: boolean;
  cbc: boolean;
  aead: boolean;
  forwardSecrecy: boolean;
  /** Only meaningful in TLS 1.3 hellos. */
  tls13: boolean;
}

// [code point, IANA name]. Grouped by registry range; see the references above.
const NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x0001, "TLS_RSA_WITH_NULL_MD5"],
  [0x0002, "TLS_RSA_WITH_NULL_SHA"],
  [0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"],
  [0x0004, "TLS_RSA_WITH_RC4_128_MD5"],
  [0x0005, "TLS_RSA_WITH_RC4_128_SHA"],
  [0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5"],
  [0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA"],
  [0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"],
  [0x0009, "TLS_RSA_WITH_DES_CBC_SHA"],
  [0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"],
  [0x000b, "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA"],
  [0x000c, "TLS_DH_DSS_WITH_DES_CBC_SHA"],
  [0x000d, "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA"],
  [0x000e, "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA"],
  [0x000f, "TLS_DH_RSA_WITH_DES_CBC_SHA"],
  [0x0010, "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA"],
  [0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA"],
  [0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA"],
  [0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA"],
  [0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"],
  [0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA"],
  [0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"],
  [0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5"],
  [0x0018, "TLS_DH_anon_WITH_RC4_128_MD5"],
  [0x0019, "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA"],
  [0x001a, "TLS_DH_anon_WITH_DES_CBC_SHA"],
  [0x001b, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA"],
  [0x002c, "TLS_PSK_WITH_NULL_SHA"],
  [0x002d, "TLS_DHE_PSK_WITH_NULL_SHA"],
  [0x002e, "TLS_RSA_PSK_WITH_NULL_SHA"],
  [0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"],
  [0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA"],
  [0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA"],
  [0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA"],
  [0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"],
  [0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA"],
  [0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"],
  [0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA"],
  [0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA"],
  [0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA"],
  [0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"],
  [0x003a, "TLS_DH_anon_WITH_AES_256_CBC_SHA"],
  [0x003b, "TLS_RSA_WITH_NULL_SHA256"],
  [0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"],
  [0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"],
  [0x003e, "TLS_DH_DSS_WITH_AES_128_CBC_SHA256"],
  [0x003f, "TLS_DH_RSA_WITH_AES_128_CBC_SHA256"],
  [0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256"],
  [0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"],
  [0x0042, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA"],
  [0x0043, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA"],
  [0x0044, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA"],
  [0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA"],
  [0x0046, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA"],
  [0x0060, "TLS_RSA_EXPORT1024_WITH_RC4_56_MD5"],
  [0x0061, "TLS_RSA_EXPORT1024_WITH_RC2_CBC_56_MD5"],
  [0x0062, "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA"],
  [0x0063, "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA"],
  [0x0064, "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA"],
  [0x0065, "TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA"],
  [0x0066, "TLS_DHE_DSS_WITH_RC4_128_SHA"],
  [0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"],
  [0x0068, "TLS_DH_DSS_WITH_AES_256_CBC_SHA256"],
  [0x0069, "TLS_DH_RSA_WITH_AES_256_CBC_SHA256"],
  [0x006a, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256"],
  [0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"],
  [0x006c, "TLS_DH_anon_WITH_AES_128_CBC_SHA256"],
  [0x006d, "TLS_DH_anon_WITH_AES_256_CBC_SHA256"],
  [0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA"],
  [0x0085, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA"],
  [0x0086, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA"],
  [0x0087, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA"],
  [0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA"],
  [0x0089, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA"],
  [0x008a, "TLS_PSK_WITH_RC4_128_SHA"],
  [0x008b, "TLS_PSK_WITH_3DES_EDE_CBC_SHA"],
  [0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA"],
  [0x008d, "TLS_PSK_WITH_AES_256_CBC_SHA"],
  [0x008e, "TLS_DHE_PSK_WITH_RC4_128_SHA"],
  [0x008f, "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA"],
  [0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA"],
  [0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA"],
  [0x0092, "TLS_RSA_PSK_WITH_RC4_128_SHA"],
  [0x0093, "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA"],
  [0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA"],
  [0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA"],
  [0x0096, "TLS_RSA_WITH_SEED_CBC_SHA"],
  [0x0097, "TLS_DH_DSS_WITH_SEED_CBC_SHA"],
  [0x0098, "TLS_DH_RSA_WITH_SEED_CBC_SHA"],
  [0x0099, "TLS_DHE_DSS_WITH_SEED_CBC_SHA"],
  [0x009a, "TLS_DHE_RSA_WITH_SEED_CBC_SHA"],
  [0x009b, "TLS_DH_anon_WITH_SEED_CBC_SHA"],
  [0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"],
  [0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"],
  [0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"],
  [0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"],
  [0x00a0, "TLS_DH_RSA_WITH_AES_128_GCM_SHA256"],
  [0x00a1, "TLS_DH_RSA_WITH_AES_256_GCM_SHA384"],
  [0x00a2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256"],
  [0x00a3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384"],
  [0x00a4, "TLS_DH_DSS_WITH_AES_128_GCM_SHA256"],
  [0x00a5, "TLS_DH_DSS_WITH_AES_256_GCM_SHA384"],
  [0x00a6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256"],
  [0x00a7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384"],
  [0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256"],
  [0x00a9, "TLS_PSK_WITH_AES_256_GCM_SHA384"],
  [0x00aa, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256"],
  [0x00ab, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384"],
  [0x00ac, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256"],
  [0x00ad, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384"],
  [0x00ae, "TLS_PSK_WITH_AES_128_CBC_SHA256"],
  [0x00af, "TLS_PSK_WITH_AES_256_CBC_SHA384"],
  [0x00b0, "TLS_PSK_WITH_NULL_SHA256"],
  [0x00b1, "TLS_PSK_WITH_NULL_SHA384"],
  [0x00b2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256"],
  [0x00b3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384"],
  [0x00b4, "TLS_DHE_PSK_WITH_NULL_SHA256"],
  [0x00b5, "TLS_DHE_PSK_WITH_NULL_SHA384"],
  [0x00b6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256"],
  [0x00b7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384"],
  [0x00b8, "TLS_RSA_PSK_WITH_NULL_SHA256"],
  [0x00b9, "TLS_RSA_PSK_WITH_NULL_SHA384"],
  [0x00ba, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256"],
  [0x00bb, "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256"],
  [0x00bc, "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256"],
  [0x00bd, "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256"],
  [0x00be, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256"],
  [0x00bf, "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256"],
  [0x00c0, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256"],
  [0x00c1, "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256"],
  [0x00c2, "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256"],
  [0x00c3, "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256"],
  [0x00c4, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256"],
  [0x00c5, "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256"],
  [0x1301, "TLS_AES_128_GCM_SHA256"],
  [0x1302, "TLS_AES_256_GCM_SHA384"],
  [0x1303, "TLS_CHACHA20_POLY1305_SHA256"],
  [0x1304, "TLS_AES_128_CCM_SHA256"],
  [0x1305, "TLS_AES_128_CCM_8_SHA256"],
  [0xc001, "TLS_ECDH_ECDSA_WITH_NULL_SHA"],
  [0xc002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA"],
  [0xc003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA"],
  [0xc004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA"],
  [0xc005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA"],
  [0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA"],
  [0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"],
  [0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"],
  [0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"],
  [0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"],
  [0xc00b, "TLS_ECDH_RSA_WITH_NULL_SHA"],
  [0xc00c, "TLS_ECDH_RSA_WITH_RC4_128_SHA"],
  [0xc00d, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA"],
  [0xc00e, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA"],
  [0xc00f, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA"],
  [0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA"],
  [0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"],
  [0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"],
  [0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"],
  [0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"],
  [0xc015, "TLS_ECDH_anon_WITH_NULL_SHA"],
  [0xc016, "TLS_ECDH_anon_WITH_RC4_128_SHA"],
  [0xc017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA"],
  [0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA"],
  [0xc019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA"],
  [0xc01a, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA"],
  [0xc01b, "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA"],
  [0xc01c, "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA"],
  [0xc01d, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA"],
  [0xc01e, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA"],
  [0xc01f, "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA"],
  [0xc020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA"],
  [0xc021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA"],
  [0xc022, "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA"],
  [0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"],
  [0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"],
  [0xc025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256"],
  [0xc026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384"],
  [0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"],
  [0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"],
  [0xc029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256"],
  [0xc02a, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384"],
  [0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
  [0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"],
  [0xc02d, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"],
  [0xc02e, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384"],
  [0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
  [0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"],
  [0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256"],
  [0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384"],
  [0xc033, "TLS_ECDHE_PSK_WITH_RC4_128_SHA"],
  [0xc034, "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA"],
  [0xc035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA"],
  [0xc036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA"],
  [0xc037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256"],
  [0xc038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384"],
  [0xc039, "TLS_ECDHE_PSK_WITH_NULL_SHA"],
  [0xc03a, "TLS_ECDHE_PSK_WITH_NULL_SHA256"],
  [0xc03b, "TLS_ECDHE_PSK_WITH_NULL_SHA384"],
  [0xc050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256"],
  [0xc051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384"],
  [0xc052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256"],
  [0xc053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384"],
  [0xc056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256"],
  [0xc057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384"],
  [0xc05c, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256"],
  [0xc05d, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384"],
  [0xc060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256"],
  [0xc061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384"],
  [0xc06a, "TLS_PSK_WITH_ARIA_128_GCM_SHA256"],
  [0xc06b, "TLS_PSK_WITH_ARIA_256_GCM_SHA384"],
  [0xc06c, "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256"],
  [0xc06d, "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384"],
  [0xc06e, "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256"],
  [0xc06f, "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384"],
  [0xc072, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256"],
  [0xc073, "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384"],
  [0xc074, "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256"],
  [0xc075, "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384"],
  [0xc076, "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256"],
  [0xc077, "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384"],
  [0xc078, "TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256"],
  [0xc079, "TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384"],
  [0xc094, "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256"],
  [0xc095, "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384"],
  [0xc096, "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256"],
  [0xc097, "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384"],
  [0xc098, "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256"],
  [0xc099, "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384"],
  [0xc09a, "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256"],
  [0xc09b, "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384"],
  [0xc09c, "TLS_RSA_WITH_AES_128_CCM"],
  [0xc09d, "TLS_RSA_WITH_AES_256_CCM"],
  [0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM"],
  [0xc09f, "TLS_DHE_RSA_WITH_AES_256_CCM"],
  [0xc0a0, "TLS_RSA_WITH_AES_128_CCM_8"],
  [0xc0a1, "TLS_RSA_WITH_AES_256_CCM_8"],
  [0xc0a2, "TLS_DHE_RSA_WITH_AES_128_CCM_8"],
  [0xc0a3, "TLS_DHE_RSA_WITH_AES_256_CCM_8"],
  [0xc0a4, "TLS_PSK_WITH_AES_128_CCM"],
  [0xc0a5, "TLS_PSK_WITH_AES_256_CCM"],
  [0xc0a6, "TLS_DHE_PSK_WITH_AES_128_CCM"],
  [0xc0a7, "TLS_DHE_PSK_WITH_AES_256_CCM"],
  [0xc0a8, "TLS_PSK_WITH_AES_128_CCM_8"],
  [0xc0a9, "TLS_PSK_WITH_AES_256_CCM_8"],
  [0xc0aa, "TLS_PSK_DHE_WITH_AES_128_CCM_8"],
  [0xc0ab, "TLS_PSK_DHE_WITH_AES_256_CCM_8"],
  [0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"],
  [0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"],
  [0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"],
  [0xc0af, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8"],
  [0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"],
  [0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"],
  [0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"],
  [0xccab, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"],
  [0xccac, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"],
  [0xccad, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256"],
  [0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256"],
];

function cipherBits(cipher: string): number {
  if (cipher.startsWith("NULL")) return 0;
  const explicit = /_(40|56|128|256)(?:_|$)/.exec(cipher) ?? /^(?:DES)(40)_/.exec(cipher);
  if (explicit) return Number(explicit[1]);
  if (cipher.startsWith("3DES")) return 112;
  if (cipher.startsWith("DES")) return 56;
  if (cipher.startsWith("CHACHA20")) return 256;
  if (cipher.startsWith("IDEA") || cipher.startsWith("SEED")) return 128;
  return 0;
}

/** Derives a suite's properties from its IANA name (see the file comment). */
export function describeSuite(id: number, name: string): CipherSuite {
  const tls13 = id >= 0x1301 && id <= 0x13ff;
  let kxPart = "";
  let cipher: string;
  if (tls13) {
    cipher = name.slice(4).replace(/_SHA(256|384)$/, "");
  } else {
    const [left, right] = name.slice(4).split("_WITH_") as [string, string];
    kxPart = left;
    // Drop the MAC/PRF hash; CCM suites carry none.
    cipher = right.replace(/_(MD5|SHA|SHA256|SHA384)$/, "");
  }
  const isExport = /EXPORT/.test(kxPart);
  const anonymous = /anon/.test(kxPart);
  const kxHead = kxPart.split("_")[0] ?? "";
  let kx: KeyExchange;
  if (tls13) kx = "TLS13";
  else if (kxHead === "ECDHE") kx = "ECDHE";
  else if (kxHead === "ECDH") kx = "ECDH";
  else if (kxHead === "DHE" || kxPart === "PSK_DHE") kx = "DHE";
  else if (kxHead === "DH") kx = "DH";
  else if (kxHead === "SRP") kx = "SRP";
  else if (kxHead === "PSK") kx = "PSK";
  else kx = "RSA";
  const authParts = kxPart.replace(/_?EXPORT(1024)?/, "").split("_");
  let auth = tls13 ? "any" : (authParts[1] ?? authParts[0] ?? "");
  if (kxPart === "RSA_PSK" || kxPart === "DHE_PSK" || kxPart === "ECDHE_PSK" || kxPart === "PSK_DHE")
    auth = "PSK";
  if (kx === "SRP") auth = authParts[2] ?? "SRP";
  const nullCipher = cipher.startsWith("NULL");
  const aead = /GCM|CCM|POLY1305/.test(cipher);
  return {
    id,
    name,
    kx,
    auth,
    cipher,
    bits: cipherBits(cipher),
    export: isExport,
    anonymous,
    nullCipher,
    rc4: cipher.startsWith("RC4"),
    block64: /^(3DES|DES|IDEA|RC2)/.test(cipher),
    cbc: /CBC/.test(cipher),
    aead,
    // Anonymous DH is ephemeral but unauthenticated; it is reported as anonymous, not as "forward secret".
    forwardSecrecy: tls13 || ((kx === "DHE" || kx === "ECDHE") && !anonymous),
    tls13,
  };
}

export const CIPHER_SUITES: ReadonlyArray<CipherSuite> = NAMES.map(([id, name]) => describeSuite(id, name));

const byId = new Map(CIPHER_SUITES.map((s) => [s.id, s]));

export function suiteById(id: number): CipherSuite | undefined {
  return byId.get(id);
}

/** Name for a code point we did not offer (should not happen; a broken server may still send one). */
export function suiteName(id: number): string {
  return byId.get(id)?.name ?? `UNKNOWN_0x${id.toString(16).padStart(4, "0")}`;
}

export const TLS13_SUITES = CIPHER_SUITES.filter((s) => s.tls13);
export const LEGACY_SUITES = CIPHER_SUITES.filter((s) => !s.tls13);

/** RFC 5746 signalling value, added to every pre-1.3 hello so servers that insist on it still answer. */
export const EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;
/** RFC 7507: a client retrying with a lower version; a server that supports a higher one must refuse. */
export const FALLBACK_SCSV = 0x5600;
