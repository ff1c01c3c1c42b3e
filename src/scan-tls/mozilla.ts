/**
 * Comparison with Mozilla's Server Side TLS recommended configurations (guidelines version 5.7):
 * protocols, cipher suites (IANA code points), DH size, certificate type and lifespan, and HSTS for
 * HTTPS. Each profile lists what the endpoint does differently; `closest` is the strictest one met.
 */
import type { TargetResult } from "./scan-tls.schemas.ts";

type Tls = NonNullable<TargetResult["tls"]>;
type Comparison = NonNullable<TargetResult["mozilla"]>;
type ProfileName = "modern" | "intermediate" | "old";

export const MOZILLA_GUIDELINES_VERSION = "5.7";

const TLS13 = [0x1301, 0x1302, 0x1303];
// ECDHE-ECDSA-AES128-GCM-SHA256 … DHE-RSA-CHACHA20-POLY1305, in Mozilla's order.
const INTERMEDIATE_12 = [0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009e, 0x009f, 0xccaa];
const OLD_12 = [
  ...INTERMEDIATE_12,
  0xc023,
  0xc027,
  0xc009,
  0xc013,
  0xc024,
  0xc028,
  0xc00a,
  0xc014,
  0x0067,
  0x006b,
  0x009c,
  0x009d,
  0x003c,
  0x003d,
  0x002f,
  0x0035,
  0x000a,
];

interface Profile {
  protocols: string[];
  suites: number[];
  minDhBits?: number;
  certificate: (c: NonNullable<TargetResult["certificate"]>) => string | undefined;
  maxLifespanDays: number;
  hstsMaxAge: number;
}

const P256 = new Set(["prime256v1", "secp256r1"]);

const PROFILES: Record<ProfileName, Profile> = {
  modern: {
    protocols: ["TLSv1.3"],
    suites: TLS13,
    certificate: (c) =>
      c.keyType === "ec" && P256.has(c.curve ?? "") ? undefined : "certificate should be ECDSA P-256",
    maxLifespanDays: 90,
    hstsMaxAge: 63072000,
  },
  intermediate: {
    protocols: ["TLSv1.2", "TLSv1.3"],
    suites: [...TLS13, ...INTERMEDIATE_12],
    minDhBits: 2048,
    certificate: (c) =>
      (c.keyType === "ec" && P256.has(c.curve ?? "")) || (c.keyType === "rsa" && c.keyBits >= 2048)
        ? undefined
        : "certificate should be ECDSA P-256 or RSA ≥ 2048 bits",
    maxLifespanDays: 366,
    hstsMaxAge: 63072000,
  },
  old: {
    protocols: ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
    suites: [...TLS13, ...OLD_12],
    minDhBits: 1024,
    certificate: (c) =>
      c.keyType === "rsa" && c.keyBits >= 2048 && c.signatureAlgorithm === "sha256WithRSAEncryption"
        ? undefined
        : "certificate should be RSA ≥ 2048 bits signed with sha256WithRSAEncryption",
    maxLifespanDays: 366,
    hstsMaxAge: 63072000,
  },
};

function deviations(
  profile: Profile,
  target: Pick<TargetResult, "tls" | "certificate" | "http" | "service">,
): string[] {
  const out: string[] = [];
  const tls = target.tls as Tls;
  const offered = tls.protocols.filter((p) => p.supported);
  const extraProtocols = offered.map((p) => p.protocol).filter((p) => !profile.protocols.includes(p));
  if (extraProtocols.length) out.push(`protocols not in the profile: ${extraProtocols.join(", ")}`);
  if (!offered.some((p) => profile.protocols.includes(p.protocol)))
    out.push(`none of the profile's protocols offered (${profile.protocols.join(", ")})`);
  const extraSuites = new Set<string>();
  for (const p of offered)
    for (const s of p.suites)
      if (!profile.suites.includes(Number.parseInt(s.id, 16))) extraSuites.add(s.name);
  if (extraSuites.size) out.push(`cipher suites not in the profile: ${[...extraSuites].join(", ")}`);
  if (profile.minDhBits && tls.minDhBits !== undefined && tls.minDhBits < profile.minDhBits)
    out.push(`DH group of ${tls.minDhBits} bits, profile wants ≥ ${profile.minDhBits}`);
  const cert = target.certificate;
  if (cert) {
    const problem = profile.certificate(cert);
    if (problem) out.push(problem);
    const lifespan = (Date.parse(cert.notAfter) - Date.parse(cert.notBefore)) / 86_400_000;
    if (lifespan > profile.maxLifespanDays)
      out.push(
        `certificate lifespan ${Math.round(lifespan)} days, profile wants ≤ ${profile.maxLifespanDays}`,
      );
  }
  if (target.service === "https" && (target.http?.hstsMaxAge ?? 0) < profile.hstsMaxAge)
    out.push(`HSTS max-age should be ≥ ${profile.hstsMaxAge} s (two years)`);
  return out;
}

export function compareWithMozilla(
  target: Pick<TargetResult, "tls" | "certificate" | "http" | "service">,
): Comparison | undefined {
  if (!target.tls?.protocols.some((p) => p.supported)) return undefined;
  const profiles = {} as Comparison["profiles"];
  for (const name of ["modern", "intermediate", "old"] as const) {
    const list = deviations(PROFILES[name], target);
    profiles[name] = { compliant: list.length === 0, deviations: list };
  }
  const closest = (["modern", "intermediate", "old"] as const).find((n) => profiles[n].compliant) ?? "none";
  return { guidelinesVersion: MOZILLA_GUIDELINES_VERSION, closest, profiles };
}
