import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { parseSshPublicKey, sshByte, sshString, sshUint32, sshUint64 } from "./ssh-wire.ts";

/**
 * An SSH certificate authority over an Ed25519 key: signs OpenSSH user certificates
 * (PROTOCOL.certkeys) and writes key revocation lists (PROTOCOL.krl). Both formats are written by hand
 * with Node's own Ed25519: sshpk can produce certificates but offers no way to set the key id or the
 * extensions (so no permit-pty without forwarding), and no npm library writes KRLs.
 */
export interface SshCertificateAuthority {
  /** `ssh-ed25519 AAAA... comment`, the line hosts put in their TrustedUserCAKeys file. */
  readonly publicKeyLine: string;
  /** The CA key's SSH wire blob (as embedded in certificates and KRLs). */
  readonly publicKeyBlob: Buffer;
  signUserCertificate(request: UserCertificateRequest): SignedCertificate;
  buildKrl(options: KrlOptions): Buffer;
}

/** The extensions OpenSSH defines for user certificates (PROTOCOL.certkeys §"Extensions"). */
export const sshCertificateExtensions = [
  "permit-X11-forwarding",
  "permit-agent-forwarding",
  "permit-port-forwarding",
  "permit-pty",
  "permit-user-rc",
] as const;
export type SshCertificateExtension = (typeof sshCertificateExtensions)[number];

export interface UserCertificateRequest {
  /** The developer's registered public key line. */
  publicKey: string;
  /** Shown in sshd's logs; Warden names the developer and the grant. */
  keyId: string;
  principals: readonly string[];
  validAfter: Date;
  validBefore: Date;
  extensions: readonly SshCertificateExtension[];
  /** Optional critical options: `source-address` (comma-separated CIDRs), `force-command`. */
  criticalOptions?: { sourceAddress?: string; forceCommand?: string };
  /** A 64-bit serial; random when left out (unique without coordination between Warden nodes). */
  serial?: bigint;
}

export interface SignedCertificate {
  /** `ssh-ed25519-cert-v01@openssh.com AAAA... keyId`, the line to save as `<key>-cert.pub`. */
  line: string;
  serial: bigint;
  keyId: string;
  validAfter: Date;
  validBefore: Date;
}

export interface KrlOptions {
  /** Revoked certificate serials (of this CA). */
  serials?: readonly bigint[];
  /** Revoked certificate key ids (of this CA). */
  keyIds?: readonly string[];
  /** Increases each time the KRL changes. */
  version: bigint;
  generatedAt: Date;
  comment?: string;
}

const ed25519Pkcs8Prefix = Buffer.from("302e020100300506032b657004220420", "hex");

/** Accepts a PKCS#8 PEM/DER Ed25519 private key, or its raw 32-byte seed. */
function loadCaKey(key: string | Uint8Array): KeyObject {
  let privateKey: KeyObject;
  if (typeof key === "string") {
    privateKey = createPrivateKey({ key, format: "pem" });
  } else if (key.length === 32) {
    privateKey = createPrivateKey({
      key: Buffer.concat([ed25519Pkcs8Prefix, Buffer.from(key)]),
      format: "der",
      type: "pkcs8",
    });
  } else {
    privateKey = createPrivateKey({ key: Buffer.from(key), format: "der", type: "pkcs8" });
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new Error(`the SSH CA key must be Ed25519, not ${privateKey.asymmetricKeyType ?? "unknown"}`);
  }
  return privateKey;
}

/** A new CA key as PKCS#8 PEM (to be sealed at rest by the caller) and its public key line. */
export function generateSshCaKey(comment = "warden-user-ca"): {
  privateKeyPem: string;
  publicKeyLine: string;
} {
  const { privateKey } = generateKeyPairSync("ed25519");
  const privateKeyPem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  return {
    privateKeyPem,
    publicKeyLine: createSshCertificateAuthority(privateKeyPem, comment).publicKeyLine,
  };
}

const unixSeconds = (d: Date) => BigInt(Math.floor(d.getTime() / 1000));
const principalPattern = /^[A-Za-z0-9._@-]{1,128}$/;

export function createSshCertificateAuthority(
  caKey: string | Uint8Array,
  comment = "warden-user-ca",
): SshCertificateAuthority {
  const privateKey = loadCaKey(caKey);
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  const rawPublic = Buffer.from(jwk.x ?? "", "base64url");
  const publicKeyBlob = Buffer.concat([sshString("ssh-ed25519"), sshString(rawPublic)]);
  const publicKeyLine = `ssh-ed25519 ${publicKeyBlob.toString("base64")} ${comment}`;

  const signBlob = (data: Buffer) =>
    Buffer.concat([sshString("ssh-ed25519"), sshString(sign(null, data, privateKey))]);

  return {
    publicKeyLine,
    publicKeyBlob,

    signUserCertificate(request) {
      const subject = parseSshPublicKey(request.publicKey);
      if (request.principals.length === 0) throw new Error("a certificate needs at least one principal");
      for (const p of request.principals) {
        if (!principalPattern.test(p)) throw new Error(`invalid principal ${JSON.stringify(p.slice(0, 64))}`);
      }
      if (request.validBefore.getTime() <= request.validAfter.getTime()) {
        throw new Error("a certificate's validity must end after it starts");
      }
      if (!/^[\x20-\x7e]{1,256}$/.test(request.keyId)) throw new Error("the key id must be printable ASCII");
      const serial = request.serial ?? (randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn) + 1n;

      // Options and extensions are sorted by name and unique, as PROTOCOL.certkeys requires. A flag
      // extension's data is empty; a critical option's data is a string holding its value.
      const critical: [string, Buffer][] = [];
      if (request.criticalOptions?.forceCommand) {
        critical.push(["force-command", sshString(request.criticalOptions.forceCommand)]);
      }
      if (request.criticalOptions?.sourceAddress) {
        critical.push(["source-address", sshString(request.criticalOptions.sourceAddress)]);
      }
      critical.sort(([a], [b]) => (a < b ? -1 : 1));
      const extensions = [...new Set(request.extensions)].sort();

      const body = Buffer.concat([
        sshString(`${subject.type}-cert-v01@openssh.com`),
        sshString(randomBytes(32)), // nonce
        subject.fields,
        sshUint64(serial),
        sshUint32(1), // SSH_CERT_TYPE_USER
        sshString(request.keyId),
        sshString(Buffer.concat(request.principals.map((p) => sshString(p)))),
        sshUint64(unixSeconds(request.validAfter)),
        sshUint64(unixSeconds(request.validBefore)),
        sshString(
          Buffer.concat(critical.map(([name, data]) => Buffer.concat([sshString(name), sshString(data)]))),
        ),
        sshString(Buffer.concat(extensions.map((name) => Buffer.concat([sshString(name), sshString("")])))),
        sshString(""), // reserved
        sshString(publicKeyBlob),
      ]);
      const certificate = Buffer.concat([body, sshString(signBlob(body))]);
      return {
        line: `${subject.type}-cert-v01@openssh.com ${certificate.toString("base64")} ${request.keyId.replace(/\s+/g, "_")}`,
        serial,
        keyId: request.keyId,
        validAfter: new Date(Number(unixSeconds(request.validAfter)) * 1000),
        validBefore: new Date(Number(unixSeconds(request.validBefore)) * 1000),
      };
    },

    buildKrl(options) {
      // PROTOCOL.krl: header, then one KRL_SECTION_CERTIFICATES for this CA holding a serial list
      // (KRL_SECTION_CERT_SERIAL_LIST, ascending) and a key id list (KRL_SECTION_CERT_KEY_ID).
      const header = Buffer.concat([
        Buffer.from("SSHKRL\n\0", "latin1"),
        sshUint32(1), // KRL_FORMAT_VERSION
        sshUint64(options.version),
        sshUint64(unixSeconds(options.generatedAt)),
        sshUint64(0n), // flags
        sshString(""), // reserved
        sshString(options.comment ?? ""),
      ]);
      const serials = [...new Set(options.serials ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const keyIds = [...new Set(options.keyIds ?? [])].sort();
      if (serials.length === 0 && keyIds.length === 0) return header;
      const subsections: Buffer[] = [];
      if (serials.length > 0) {
        subsections.push(sshByte(0x20), sshString(Buffer.concat(serials.map(sshUint64))));
      }
      if (keyIds.length > 0) {
        subsections.push(sshByte(0x23), sshString(Buffer.concat(keyIds.map((k) => sshString(k)))));
      }
      const certificates = Buffer.concat([sshString(publicKeyBlob), sshString(""), ...subsections]);
      return Buffer.concat([header, sshByte(1), sshString(certificates)]);
    },
  };
}
