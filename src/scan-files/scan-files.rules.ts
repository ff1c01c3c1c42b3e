import { randomBytes } from "node:crypto";
import {
  charClasses,
  decodeBase64,
  hasBase62Crc32Suffix,
  looksLikeGenericNonSecret,
  withBase62Crc32,
} from "./scan-files.checks.ts";
import { privateKeyVerdict } from "./scan-files.keys.ts";

export type Severity = "low" | "medium" | "high";
export type RuleCategory =
  | "cloud"
  | "source-host"
  | "ci-cd"
  | "payments"
  | "messaging"
  | "package-registry"
  | "ai"
  | "database"
  | "private-key"
  | "token"
  | "saas"
  | "generic";

/**
 * One detector. `keywords` (lower case) feed the prefilter: the pattern only runs near a keyword hit.
 * `secretPattern` is the regular-expression source of the secret alone; the corpus generator of the
 * benchmark draws random samples from it. `sample` overrides it where a checksum or a structure is needed.
 */
export interface SecretRule {
  id: string;
  title: string;
  category: RuleCategory;
  severity: Severity;
  keywords: string[];
  regex: RegExp;
  secretGroup: number;
  entropy?: number;
  validate?: (secret: string, match: RegExpExecArray) => boolean;
  /** The pattern can span lines (PEM blocks): the matcher looks further than the keyword's line. */
  multiline?: boolean;
  /** Name-based rule: stricter placeholder checks and not applied to lockfiles. */
  generic?: boolean;
  secretPattern?: string;
  /** For assignment rules: a variable name the corpus generator can use. */
  sampleName?: string;
  sample?: () => string;
  /** Only files whose path matches (gitleaks `path`). */
  path?: RegExp;
  /** Recognised by the variable name rather than the value: runs after the self-evident token rules. */
  contextual?: boolean;
  /** The format itself repeats characters (X's AAAA… bearer prefix): skip the filler check. */
  repeatsAllowed?: boolean;
}

interface Opts {
  entropy?: number;
  validate?: (secret: string, match: RegExpExecArray) => boolean;
  flags?: string;
  keywords?: string[];
  repeatsAllowed?: boolean;
  sample?: () => string;
  sampleName?: string;
}

const NOT_AFTER = "(?<![A-Za-z0-9_])";
const NOT_BEFORE = "(?![A-Za-z0-9_])";

/** A token recognisable on its own by a provider prefix. */
function token(
  id: string,
  title: string,
  category: RuleCategory,
  severity: Severity,
  keywords: string[],
  secret: string,
  opts: Opts = {},
): SecretRule {
  return {
    id,
    title,
    category,
    severity,
    keywords: (opts.keywords ?? keywords).map((k) => k.toLowerCase()),
    regex: new RegExp(`${NOT_AFTER}(${secret})${NOT_BEFORE}`, opts.flags ?? ""),
    secretGroup: 1,
    secretPattern: secret,
    ...(opts.entropy !== undefined ? { entropy: opts.entropy } : {}),
    ...(opts.validate ? { validate: opts.validate } : {}),
    ...(opts.sample ? { sample: opts.sample } : {}),
    ...(opts.repeatsAllowed ? { repeatsAllowed: true } : {}),
  };
}

/** A value without a distinctive prefix, recognised by the provider's name in the variable it is assigned to. */
function assigned(
  id: string,
  title: string,
  category: RuleCategory,
  severity: Severity,
  names: string,
  secret: string,
  opts: Opts = {},
): SecretRule {
  const keywords = opts.keywords ?? names.split("|").map((n) => n.replace(/\\/g, ""));
  return {
    id,
    title,
    category,
    severity,
    keywords: keywords.map((k) => k.toLowerCase()),
    regex: new RegExp(
      `(?:${names})[\\w.\\-]{0,24}?["'\\]]{0,2}\\s{0,3}(?:=|:=|:|=>|\\?=)\\s{0,3}["'\`]?(${secret})${
        // A base64 value must end there too: 40 characters cut from a longer token are not a key.
        /[+/]/.test(secret) ? "(?![A-Za-z0-9_\\-+/=])" : "(?![A-Za-z0-9_\\-])"
      }`,
      "i",
    ),
    secretGroup: 1,
    secretPattern: secret,
    contextual: true,
    entropy: opts.entropy ?? 3,
    sampleName: opts.sampleName ?? `${keywords[0]!.toUpperCase()}_KEY`,
    ...(opts.validate ? { validate: opts.validate } : {}),
    ...(opts.sample ? { sample: opts.sample } : {}),
  };
}

const HEX32 = "[a-f0-9]{32}";
const HEX40 = "[a-f0-9]{40}";
const HEX64 = "[a-f0-9]{64}";
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const B62 = (n: number | string) => `[A-Za-z0-9]{${n}}`;
const URLSAFE = (n: number | string) => `[A-Za-z0-9_\\-]{${n}}`;

const randomBase62 = (n: number): string => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(n);
  let out = "";
  for (const b of bytes) out += alphabet[b % 62];
  return out;
};

const githubToken = (id: string, prefix: string, title: string, severity: Severity): SecretRule =>
  token(id, title, "source-host", severity, [prefix], `${prefix}${B62(36)}`, {
    validate: (s) => hasBase62Crc32Suffix(s, prefix.length),
    sample: () => withBase62Crc32(prefix, randomBase62(30)),
  });

const jwtValid = (s: string): boolean => {
  const [h, p] = s.split(".");
  if (!h || !p) return false;
  try {
    const header = JSON.parse(decodeBase64(h)?.toString("utf8") ?? "") as { alg?: unknown };
    JSON.parse(decodeBase64(p)?.toString("utf8") ?? "");
    return typeof header.alg === "string" && header.alg.toLowerCase() !== "none";
  } catch {
    return false;
  }
};

const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

const sampleJwt = (payload: object = { sub: randomBase62(10), iat: 1767225600, role: "service" }) =>
  `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(payload)}.${randomBytes(32).toString("base64url")}`;

/** A password in a URL, on a DB scheme: `postgres://user:pw@host`. Example hosts and placeholders are not. */
const urlPasswordValid = (secret: string, m: RegExpExecArray): boolean => {
  const user = m[1] ?? "";
  const host = (m[3] ?? "").toLowerCase();
  if (secret === user || secret.length < 4) return false;
  if (/(^|\.)example\.(com|org|net)$|\.(example|test|invalid)$|^example$/.test(host)) return false;
  // A local service's password opens nothing beyond the developer's machine.
  if (/^(?:localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\])$/.test(host)) return false;
  if (
    /^(pass(word)?|passwd|pwd|secret|user|username|root|admin|changeme|dbpass|dbpassword|\*+|x+)$/i.test(
      secret,
    )
  )
    return false;
  return !looksLikeGenericNonSecret(secret) || /\d/.test(secret);
};

const dbUrl = (
  id: string,
  title: string,
  schemes: string,
  keywords: string[],
  severity: Severity = "high",
): SecretRule => ({
  id,
  title,
  category: "database",
  severity,
  keywords,
  regex: new RegExp(
    `(?<![A-Za-z0-9+.-])(?:${schemes})://([^\\s:@/'"\`]{1,64}):([^\\s@/'"\`]{1,128})@([A-Za-z0-9._-]{1,253})`,
    "i",
  ),
  secretGroup: 2,
  validate: urlPasswordValid,
  sample: () => `${keywords[0]}app:${randomBase62(18)}@db-7.internal.acme.io:5432/app`,
});

const privateKeyRule = (id: string, title: string, begin: string, sample: () => string): SecretRule => ({
  id,
  title,
  category: "private-key",
  severity: "high",
  keywords: [`-----begin ${begin.toLowerCase()}`],
  regex: new RegExp(`(-----BEGIN ${begin}-----\\r?\\n[\\s\\S]{64,16384}?-----END ${begin}-----)`),
  secretGroup: 1,
  multiline: true,
  validate: (block) => privateKeyVerdict(block) === "unencrypted",
  sample,
});

// Private key samples are produced by the benchmark and tests with node:crypto; these are format shells.
const pem = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .trim()}\n-----END ${label}-----`;

const genericValue = (secret: string): boolean => {
  if (looksLikeGenericNonSecret(secret)) return false;
  // A GitHub/npm-shaped token whose checksum fails is a made-up one (tests, docs).
  if (/^(?:gh[pousr]_|npm_)[A-Za-z0-9]{36}$/.test(secret) && !hasBase62Crc32Suffix(secret, 4)) return false;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(secret)) return false;
  // Random tokens of this length nearly always mix digits and letters; words and identifiers do not.
  return /\d/.test(secret) && /[A-Za-z]/.test(secret) && charClasses(secret) >= 2;
};

const passwordValue = (secret: string): boolean => {
  if (looksLikeGenericNonSecret(secret)) return false;
  if (/^[),;:\]}.]/.test(secret) || /[A-Za-z]{3,}\(/.test(secret)) return false; // code, not a literal
  if (/^[\d.]+$/.test(secret)) return false; // versions, OIDs, addresses
  if (/^(?:\/|~\/|\.\.?\/|[A-Za-z]:\\)/.test(secret)) return false; // paths (PWD=/home/...)
  if (/^[a-z_-]+$/.test(secret)) return false; // labels, field names, css classes
  if (/^[A-Z_]+$/.test(secret)) return false; // constant names
  if (/^\W+$/.test(secret)) return false;
  return charClasses(secret) >= 2;
};

const declaredRules: SecretRule[] = [
  // ── Cloud ──────────────────────────────────────────────────────────────────────────────────────
  token(
    "aws-access-key-id",
    "AWS access key ID",
    "cloud",
    "high",
    ["akia", "asia", "abia", "acca", "a3t"],
    "(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",
  ),
  assigned(
    "aws-secret-access-key",
    "AWS secret access key",
    "cloud",
    "high",
    "aws|secret_access_key|secretaccesskey",
    "[A-Za-z0-9/+]{40}",
    {
      entropy: 4,
      keywords: ["aws", "secret_access_key", "secretaccesskey"],
      sampleName: "AWS_SECRET_ACCESS_KEY",
    },
  ),
  assigned(
    "aws-session-token",
    "AWS session token",
    "cloud",
    "high",
    "aws_session_token|awssessiontoken|session_token",
    "[A-Za-z0-9/+=]{100,1200}",
    {
      entropy: 4.5,
      sampleName: "AWS_SESSION_TOKEN",
    },
  ),
  token(
    "aws-bedrock-api-key",
    "AWS Bedrock API key",
    "cloud",
    "high",
    ["absk"],
    "ABSK[A-Za-z0-9+/]{109,269}={0,2}",
  ),
  token("gcp-api-key", "Google Cloud API key", "cloud", "high", ["aiza"], "AIza[0-9A-Za-z_\\-]{35}", {
    entropy: 3.5,
  }),
  token(
    "gcp-oauth-client-secret",
    "Google OAuth client secret",
    "cloud",
    "high",
    ["gocspx"],
    `GOCSPX-${URLSAFE(28)}`,
  ),
  token(
    "google-oauth-access-token",
    "Google OAuth access token",
    "cloud",
    "high",
    ["ya29."],
    `ya29\\.${URLSAFE("30,300")}`,
    { entropy: 4 },
  ),
  token(
    "google-oauth-refresh-token",
    "Google OAuth refresh token",
    "cloud",
    "high",
    ["1//0"],
    `1//0${URLSAFE("40,200")}`,
    { entropy: 4 },
  ),
  {
    id: "gcp-service-account-key-id",
    title: "Google Cloud service account key file",
    category: "cloud",
    severity: "high",
    keywords: ["private_key_id"],
    regex: /"private_key_id"\s*:\s*"([a-f0-9]{40})"/,
    secretGroup: 1,
    secretPattern: HEX40,
    sample: () => `{"type": "service_account", "private_key_id": "${randomBytes(20).toString("hex")}"}`,
  },
  token(
    "azure-storage-account-key",
    "Azure storage account key",
    "cloud",
    "high",
    ["accountkey"],
    "[A-Za-z0-9+/]{86}==",
    {
      keywords: ["accountkey"],
      entropy: 4.5,
      sample: () =>
        `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${randomBytes(64).toString("base64")};EndpointSuffix=core.windows.net`,
    },
  ),
  token(
    "azure-shared-access-key",
    "Azure Service Bus / Event Hubs shared access key",
    "cloud",
    "high",
    ["sharedaccesskey="],
    "[A-Za-z0-9+/]{43}=",
    {
      entropy: 4,
      sample: () =>
        `Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=${randomBytes(32).toString("base64")}`,
    },
  ),
  {
    id: "azure-sas-token",
    title: "Azure shared access signature",
    category: "cloud",
    severity: "high",
    keywords: ["sig="],
    regex: /[?&]sv=\d{4}-\d{2}-\d{2}[^\s'"]{0,300}?&sig=([A-Za-z0-9%+/]{40,100}=?(?:%3D)?)/,
    secretGroup: 1,
    entropy: 4,
    sample: () =>
      `https://acme.blob.core.windows.net/c/f?sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2027-01-01&sig=${encodeURIComponent(randomBytes(32).toString("base64"))}`,
  },
  token(
    "azure-ad-client-secret",
    "Azure AD (Entra ID) client secret",
    "cloud",
    "high",
    ["q~"],
    "[A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.\\-]{31,34}",
    {
      entropy: 3.5,
    },
  ),
  token(
    "azure-devops-pat",
    "Azure DevOps personal access token",
    "source-host",
    "high",
    ["azdo"],
    "[A-Za-z0-9]{52}AZDO[A-Za-z0-9]{4}",
  ),
  token(
    "alibaba-access-key-id",
    "Alibaba Cloud AccessKey ID",
    "cloud",
    "high",
    ["ltai"],
    "LTAI[A-Za-z0-9]{20}",
    { entropy: 3.5 },
  ),
  assigned(
    "alibaba-access-key-secret",
    "Alibaba Cloud AccessKey secret",
    "cloud",
    "high",
    "alibaba|aliyun",
    "[a-z0-9]{30}",
    { entropy: 3.5 },
  ),
  token("tencent-secret-id", "Tencent Cloud SecretId", "cloud", "high", ["akid"], "AKID[A-Za-z0-9]{32}", {
    entropy: 3.5,
  }),
  assigned("ibm-cloud-api-key", "IBM Cloud API key", "cloud", "high", "ibm|ibmcloud", URLSAFE(44), {
    entropy: 4,
  }),
  token(
    "digitalocean-pat",
    "DigitalOcean personal access token",
    "cloud",
    "high",
    ["dop_v1_"],
    `dop_v1_${HEX64}`,
  ),
  token(
    "digitalocean-oauth-token",
    "DigitalOcean OAuth token",
    "cloud",
    "high",
    ["doo_v1_"],
    `doo_v1_${HEX64}`,
  ),
  token(
    "digitalocean-refresh-token",
    "DigitalOcean refresh token",
    "cloud",
    "high",
    ["dor_v1_"],
    `dor_v1_${HEX64}`,
  ),
  assigned("linode-token", "Linode (Akamai) API token", "cloud", "high", "linode", HEX64),
  assigned("vultr-api-key", "Vultr API key", "cloud", "high", "vultr", "[A-Z0-9]{36}", { entropy: 3.5 }),
  assigned("hetzner-api-token", "Hetzner Cloud API token", "cloud", "high", "hetzner|hcloud", B62(64), {
    entropy: 4,
  }),
  token("scaleway-access-key", "Scaleway access key", "cloud", "medium", ["scw"], "SCW[A-Z0-9]{17}", {
    entropy: 3,
  }),
  assigned("scaleway-secret-key", "Scaleway secret key", "cloud", "high", "scaleway|scw_secret", UUID),
  assigned(
    "cloudflare-api-token",
    "Cloudflare API token",
    "cloud",
    "high",
    "cloudflare|cf_api",
    URLSAFE(40),
    { entropy: 3.5 },
  ),
  assigned(
    "cloudflare-global-api-key",
    "Cloudflare global API key",
    "cloud",
    "high",
    "cloudflare|cf_api",
    "[a-f0-9]{37}",
  ),
  token(
    "cloudflare-origin-ca-key",
    "Cloudflare Origin CA key",
    "cloud",
    "high",
    ["v1.0-"],
    "v1\\.0-[a-f0-9]{24}-[a-f0-9]{146}",
  ),
  assigned("fastly-api-token", "Fastly API token", "cloud", "high", "fastly", URLSAFE(32), { entropy: 3.5 }),
  assigned("heroku-api-key", "Heroku API key", "cloud", "high", "heroku", UUID),
  token("heroku-api-key-v2", "Heroku API key (HRKU)", "cloud", "high", ["hrku-"], `HRKU-AA${URLSAFE(58)}`),
  assigned("netlify-token", "Netlify access token", "cloud", "high", "netlify", URLSAFE("40,46"), {
    entropy: 3.5,
  }),
  token("netlify-pat", "Netlify personal access token", "cloud", "high", ["nfp_"], `nfp_${B62(36)}`),
  assigned("vercel-token", "Vercel access token", "cloud", "high", "vercel", B62(24), { entropy: 3.5 }),
  token("flyio-token", "Fly.io access token", "cloud", "high", ["fo1_"], `fo1_${URLSAFE(43)}`),
  token(
    "flyio-macaroon",
    "Fly.io macaroon token",
    "cloud",
    "high",
    ["fm2_"],
    "fm2_[A-Za-z0-9+/]{100,}={0,2}",
  ),
  token("render-api-key", "Render API key", "cloud", "high", ["rnd_"], `rnd_${B62(32)}`),
  assigned("railway-token", "Railway API token", "cloud", "high", "railway", UUID),
  token("supabase-pat", "Supabase access token", "cloud", "high", ["sbp_"], `sbp_${HEX40}`),
  token(
    "firebase-cloud-messaging-key",
    "Firebase Cloud Messaging server key",
    "cloud",
    "high",
    ["apa91b"],
    `AAAA${URLSAFE(7)}:APA91b${URLSAFE(134)}`,
  ),
  token(
    "planetscale-token",
    "PlanetScale service token",
    "database",
    "high",
    ["pscale_tkn_"],
    "pscale_tkn_[A-Za-z0-9_.=\\-]{32,64}",
  ),
  token(
    "planetscale-password",
    "PlanetScale password",
    "database",
    "high",
    ["pscale_pw_"],
    "pscale_pw_[A-Za-z0-9_.=\\-]{32,64}",
  ),
  token(
    "planetscale-oauth-token",
    "PlanetScale OAuth token",
    "database",
    "high",
    ["pscale_oauth_"],
    "pscale_oauth_[A-Za-z0-9_.=\\-]{32,64}",
  ),
  token("neon-api-key", "Neon API key", "database", "high", ["napi_"], "napi_[a-z0-9]{64}"),
  token(
    "terraform-cloud-token",
    "Terraform Cloud / HCP token",
    "cloud",
    "high",
    ["atlasv1"],
    "[a-z0-9]{14}\\.atlasv1\\.[a-z0-9_=\\-]{60,70}",
    {
      entropy: 3.5,
    },
  ),
  token(
    "vault-service-token",
    "HashiCorp Vault service token",
    "cloud",
    "high",
    ["hvs."],
    `hvs\\.${URLSAFE("90,120")}`,
  ),
  token(
    "vault-batch-token",
    "HashiCorp Vault batch token",
    "cloud",
    "high",
    ["hvb."],
    `hvb\\.${URLSAFE("138,300")}`,
  ),
  token("pulumi-access-token", "Pulumi access token", "cloud", "high", ["pul-"], `pul-${HEX40}`),
  token(
    "doppler-token",
    "Doppler token",
    "cloud",
    "high",
    ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."],
    "dp\\.(?:pt|st|sa|ct|scim|audit)\\.[A-Za-z0-9]{40,44}",
  ),
  token(
    "onepassword-service-account-token",
    "1Password service account token",
    "cloud",
    "high",
    ["ops_eyj"],
    "ops_eyJ[A-Za-z0-9+/]{250,}={0,3}",
  ),
  token("infracost-api-token", "Infracost API token", "cloud", "medium", ["ico-"], `ico-${B62(32)}`),
  token("databricks-token", "Databricks access token", "cloud", "high", ["dapi"], `dapi${HEX32}(?:-\\d)?`),
  assigned("okta-api-token", "Okta API token", "cloud", "high", "okta", `00${URLSAFE(40)}`, { entropy: 4 }),
  assigned("auth0-client-secret", "Auth0 client secret", "cloud", "high", "auth0", URLSAFE(64), {
    entropy: 4,
  }),
  token("openshift-token", "OpenShift user token", "cloud", "high", ["sha256~"], `sha256~${URLSAFE(43)}`),
  token(
    "dockerhub-pat",
    "Docker Hub personal access token",
    "package-registry",
    "high",
    ["dckr_pat_"],
    `dckr_pat_${URLSAFE(27)}`,
  ),
  token(
    "dockerhub-oat",
    "Docker Hub organisation access token",
    "package-registry",
    "high",
    ["dckr_oat_"],
    `dckr_oat_${URLSAFE("32")}`,
  ),
  {
    id: "docker-config-auth",
    title: "Docker registry credentials (config.json auth)",
    category: "package-registry",
    severity: "high",
    keywords: ['"auth"'],
    regex: /"auth"\s*:\s*"([A-Za-z0-9+/]{12,}={0,2})"/,
    secretGroup: 1,
    validate: (s) => {
      const d = decodeBase64(s)?.toString("utf8") ?? "";
      const [u, p] = d.split(":");
      return Boolean(u && p && p.length >= 4 && /^[\x20-\x7e]+$/.test(d));
    },
    sample: () =>
      `{"auths": {"registry.acme.io": {"auth": "${Buffer.from(`deploy:${randomBase62(20)}`).toString("base64")}"}}}`,
  },
  token("yandex-api-key", "Yandex Cloud API key", "cloud", "high", ["aqvn"], `AQVN${URLSAFE("35,38")}`, {
    entropy: 3.5,
  }),
  token(
    "dynatrace-api-token",
    "Dynatrace API token",
    "cloud",
    "high",
    ["dt0c01."],
    "dt0c01\\.[A-Z0-9]{24}\\.[A-Z0-9]{64}",
  ),
  token(
    "clickhouse-cloud-key",
    "ClickHouse Cloud API secret",
    "database",
    "high",
    ["4b1d"],
    `4b1d${B62(38)}`,
  ),
  {
    id: "kubeconfig-client-key",
    title: "Kubernetes client key in kubeconfig",
    category: "cloud",
    severity: "high",
    keywords: ["client-key-data"],
    regex: /client-key-data:\s*([A-Za-z0-9+/]{100,}={0,2})/,
    secretGroup: 1,
    entropy: 4.5,
    sample: () => `    client-key-data: ${randomBytes(300).toString("base64")}`,
  },

  // ── Source hosts and CI ────────────────────────────────────────────────────────────────────────
  githubToken("github-pat", "ghp_", "GitHub personal access token", "high"),
  githubToken("github-oauth-token", "gho_", "GitHub OAuth access token", "high"),
  githubToken("github-user-to-server-token", "ghu_", "GitHub user-to-server token", "high"),
  githubToken("github-app-token", "ghs_", "GitHub App installation token", "high"),
  githubToken("github-refresh-token", "ghr_", "GitHub refresh token", "high"),
  token(
    "github-fine-grained-pat",
    "GitHub fine-grained personal access token",
    "source-host",
    "high",
    ["github_pat_"],
    `github_pat_${B62(22)}_${B62(59)}`,
  ),
  token(
    "gitlab-pat",
    "GitLab personal access token",
    "source-host",
    "high",
    ["glpat-"],
    `glpat-${URLSAFE(20)}(?:${URLSAFE("7,40")}\\.[0-9a-z]{2}\\.[0-9a-z]{7})?`,
    { entropy: 3 },
  ),
  token(
    "gitlab-pipeline-trigger-token",
    "GitLab pipeline trigger token",
    "ci-cd",
    "high",
    ["glptt-"],
    `glptt-${HEX40}`,
  ),
  token(
    "gitlab-runner-registration-token",
    "GitLab runner registration token",
    "ci-cd",
    "high",
    ["gr1348941"],
    `GR1348941${URLSAFE(20)}`,
  ),
  token(
    "gitlab-runner-auth-token",
    "GitLab runner authentication token",
    "ci-cd",
    "high",
    ["glrt-"],
    `glrt-${URLSAFE(20)}`,
  ),
  token(
    "gitlab-deploy-token",
    "GitLab deploy token",
    "source-host",
    "high",
    ["gldt-"],
    `gldt-${URLSAFE(20)}`,
  ),
  token("gitlab-feed-token", "GitLab feed token", "source-host", "medium", ["glft-"], `glft-${URLSAFE(20)}`),
  token(
    "gitlab-oauth-app-secret",
    "GitLab OAuth application secret",
    "source-host",
    "high",
    ["gloas-"],
    `gloas-${HEX64}`,
  ),
  token(
    "gitlab-scim-token",
    "GitLab SCIM token",
    "source-host",
    "high",
    ["glsoat-"],
    `glsoat-${URLSAFE(20)}`,
  ),
  token(
    "gitlab-cicd-job-token",
    "GitLab CI/CD job token",
    "ci-cd",
    "medium",
    ["glcbt-"],
    `glcbt-[0-9a-f]{1,5}_${URLSAFE(20)}`,
  ),
  token(
    "gitlab-incoming-mail-token",
    "GitLab incoming mail token",
    "source-host",
    "medium",
    ["glimt-"],
    "glimt-[0-9a-z]{25}",
  ),
  token(
    "gitlab-feature-flag-token",
    "GitLab feature flag client token",
    "source-host",
    "medium",
    ["glffct-"],
    `glffct-${URLSAFE(20)}`,
  ),
  token(
    "gitlab-kubernetes-agent-token",
    "GitLab Kubernetes agent token",
    "source-host",
    "high",
    ["glagent-"],
    `glagent-${URLSAFE(50)}`,
  ),
  token(
    "bitbucket-app-password",
    "Bitbucket app password",
    "source-host",
    "high",
    ["atbb"],
    `ATBB${URLSAFE(32)}`,
    { entropy: 3.5 },
  ),
  assigned(
    "bitbucket-client-secret",
    "Bitbucket OAuth client secret",
    "source-host",
    "high",
    "bitbucket",
    "[A-Za-z0-9=_\\-]{64}",
    { entropy: 4 },
  ),
  token(
    "atlassian-api-token",
    "Atlassian API token",
    "saas",
    "high",
    ["atatt3"],
    `ATATT3[A-Za-z0-9_\\-=]{186}`,
  ),
  assigned(
    "atlassian-api-token-legacy",
    "Atlassian API token (legacy)",
    "saas",
    "high",
    "atlassian|confluence|jira",
    "[a-z0-9]{24}",
    // 24 random [a-z0-9]: under 3.5 bits 0.24% of the time, under 3.25 bits 0.002%.
    { entropy: 3.25 },
  ),
  assigned("gitea-token", "Gitea / Forgejo access token", "source-host", "high", "gitea|forgejo", HEX40),
  token(
    "sourcegraph-token",
    "Sourcegraph access token",
    "source-host",
    "high",
    ["sgp_"],
    "sgp_(?:[a-f0-9]{16}_)?[a-f0-9]{40}",
  ),
  assigned("circleci-token", "CircleCI API token", "ci-cd", "high", "circleci|circle_token", HEX40),
  token(
    "circleci-pat",
    "CircleCI personal API token",
    "ci-cd",
    "high",
    ["ccipat_"],
    `CCIPAT_${B62(22)}_${HEX40}`,
  ),
  assigned("travis-ci-token", "Travis CI token", "ci-cd", "high", "travis", B62(22), { entropy: 3.5 }),
  assigned("jenkins-api-token", "Jenkins API token", "ci-cd", "high", "jenkins", "[a-f0-9]{34}"),
  assigned("codecov-token", "Codecov upload token", "ci-cd", "medium", "codecov", UUID),
  token("sonarqube-token", "SonarQube token", "ci-cd", "high", ["sqp_", "squ_", "sqa_"], `sq[pua]_${HEX40}`),
  assigned("snyk-token", "Snyk API token", "ci-cd", "high", "snyk", UUID),
  token("buildkite-token", "Buildkite agent/API token", "ci-cd", "high", ["bkua_"], `bkua_${HEX40}`),
  assigned("drone-token", "Drone CI token", "ci-cd", "high", "drone", B62(32), { entropy: 3.5 }),
  token(
    "harness-pat",
    "Harness access token",
    "ci-cd",
    "high",
    ["pat."],
    `pat\\.${URLSAFE(22)}\\.[a-f0-9]{24}\\.${B62(20)}`,
  ),
  token("octopus-deploy-api-key", "Octopus Deploy API key", "ci-cd", "high", ["api-"], "API-[A-Z0-9]{26}", {
    entropy: 3.5,
  }),

  // ── Payments ───────────────────────────────────────────────────────────────────────────────────
  token(
    "stripe-secret-key",
    "Stripe live secret key",
    "payments",
    "high",
    ["sk_live_"],
    `sk_live_${B62("24,99")}`,
  ),
  token(
    "stripe-restricted-key",
    "Stripe live restricted key",
    "payments",
    "high",
    ["rk_live_"],
    `rk_live_${B62("24,99")}`,
  ),
  token(
    "stripe-test-secret-key",
    "Stripe test secret key",
    "payments",
    "low",
    ["sk_test_"],
    `sk_test_${B62("24,99")}`,
  ),
  token(
    "stripe-webhook-secret",
    "Stripe webhook signing secret",
    "payments",
    "medium",
    ["whsec_"],
    `whsec_[A-Za-z0-9+/]{32,64}`,
  ),
  token(
    "braintree-access-token",
    "PayPal Braintree access token",
    "payments",
    "high",
    ["access_token$production$"],
    "access_token\\$production\\$[a-z0-9]{16}\\$[a-f0-9]{32}",
  ),
  token(
    "braintree-sandbox-token",
    "PayPal Braintree sandbox token",
    "payments",
    "low",
    ["access_token$sandbox$"],
    "access_token\\$sandbox\\$[a-z0-9]{16}\\$[a-f0-9]{32}",
  ),
  assigned("paypal-client-secret", "PayPal REST client secret", "payments", "high", "paypal", URLSAFE(80), {
    entropy: 4,
  }),
  token(
    "square-access-token",
    "Square access token",
    "payments",
    "high",
    ["sq0atp-", "eaaa"],
    `(?:EAAA${URLSAFE(60)}|sq0atp-${URLSAFE(22)})`,
    { entropy: 3.5 },
  ),
  token(
    "square-oauth-secret",
    "Square OAuth secret",
    "payments",
    "high",
    ["sq0csp-"],
    `sq0csp-${URLSAFE(43)}`,
  ),
  assigned("adyen-api-key", "Adyen API key", "payments", "high", "adyen", "AQE[A-Za-z0-9+/=_\\-]{60,200}", {
    entropy: 4,
  }),
  token(
    "razorpay-live-key",
    "Razorpay live key ID",
    "payments",
    "medium",
    ["rzp_live_"],
    `rzp_live_${B62(14)}`,
  ),
  token(
    "flutterwave-secret-key",
    "Flutterwave secret key",
    "payments",
    "high",
    ["flwseck-"],
    `FLWSECK-${HEX32}-X`,
  ),
  token(
    "flutterwave-test-secret-key",
    "Flutterwave test secret key",
    "payments",
    "low",
    ["flwseck_test-"],
    `FLWSECK_TEST-${HEX32}-X`,
  ),
  token(
    "plaid-access-token",
    "Plaid access token",
    "payments",
    "high",
    ["access-production-", "access-development-"],
    `access-(?:production|development)-${UUID}`,
  ),
  assigned(
    "gocardless-token",
    "GoCardless access token",
    "payments",
    "high",
    "gocardless",
    `live_${URLSAFE(40)}`,
  ),
  token(
    "shopify-access-token",
    "Shopify access token",
    "payments",
    "high",
    ["shpat_"],
    "shpat_[a-fA-F0-9]{32}",
  ),
  token(
    "shopify-custom-app-token",
    "Shopify custom app access token",
    "payments",
    "high",
    ["shpca_"],
    "shpca_[a-fA-F0-9]{32}",
  ),
  token(
    "shopify-private-app-token",
    "Shopify private app access token",
    "payments",
    "high",
    ["shppa_"],
    "shppa_[a-fA-F0-9]{32}",
  ),
  token(
    "shopify-shared-secret",
    "Shopify shared secret",
    "payments",
    "high",
    ["shpss_"],
    "shpss_[a-fA-F0-9]{32}",
  ),
  assigned("mollie-api-key", "Mollie live API key", "payments", "high", "mollie", `live_${B62(30)}`),
  token("easypost-api-key", "EasyPost production API key", "payments", "high", ["ezak"], `EZAK${B62(54)}`),
  token("easypost-test-api-key", "EasyPost test API key", "payments", "low", ["eztk"], `EZTK${B62(54)}`),
  token(
    "shippo-api-token",
    "Shippo API token",
    "payments",
    "high",
    ["shippo_live_", "shippo_test_"],
    `shippo_(?:live|test)_${HEX40}`,
  ),
  token(
    "duffel-api-token",
    "Duffel API token",
    "payments",
    "high",
    ["duffel_live_", "duffel_test_"],
    `duffel_(?:live|test)_${URLSAFE(43)}`,
  ),
  assigned("coinbase-api-secret", "Coinbase API secret", "payments", "high", "coinbase", URLSAFE(64), {
    entropy: 4,
  }),
  assigned(
    "lob-api-key",
    "Lob API key",
    "payments",
    "medium",
    "lob_api|lob_key",
    `(?:live|test)_[a-f0-9]{35}`,
  ),

  // ── Messaging and e-mail ───────────────────────────────────────────────────────────────────────
  token(
    "slack-bot-token",
    "Slack bot token",
    "messaging",
    "high",
    ["xoxb-"],
    "xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,34}",
  ),
  token(
    "slack-user-token",
    "Slack user token",
    "messaging",
    "high",
    ["xoxp-", "xoxe-"],
    "xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9]{28,34}",
  ),
  token(
    "slack-app-token",
    "Slack app-level token",
    "messaging",
    "high",
    ["xapp-"],
    "xapp-\\d-[A-Z0-9]{9,12}-\\d{10,13}-[a-f0-9]{64}",
  ),
  token(
    "slack-config-token",
    "Slack configuration token",
    "messaging",
    "high",
    ["xoxe.xox"],
    "xoxe\\.xox[bp]-\\d-[A-Za-z0-9]{163,166}",
  ),
  token(
    "slack-legacy-token",
    "Slack legacy token",
    "messaging",
    "high",
    ["xoxa-", "xoxo-", "xoxs-", "xoxr-"],
    "xox[aors]-(?:\\d+-)?[0-9a-zA-Z]{8,48}(?:-[0-9a-zA-Z]{8,48}){0,3}",
    // Short legacy tokens fall under 3.5 bits 0.5% of the time, under 3 bits 0.015%.
    { entropy: 3 },
  ),
  token(
    "slack-webhook-url",
    "Slack incoming webhook URL",
    "messaging",
    "high",
    ["hooks.slack.com"],
    "https://hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}",
  ),
  assigned("twilio-api-key", "Twilio API key", "messaging", "high", "twilio", "SK[0-9a-fA-F]{32}"),
  assigned("twilio-auth-token", "Twilio auth token", "messaging", "high", "twilio", HEX32, {
    sampleName: "TWILIO_AUTH_TOKEN",
  }),
  token(
    "sendgrid-api-key",
    "SendGrid API key",
    "messaging",
    "high",
    ["sg."],
    `SG\\.${URLSAFE(22)}\\.${URLSAFE(43)}`,
  ),
  token("mailgun-api-key", "Mailgun private API key", "messaging", "high", ["key-"], `key-${HEX32}`),
  token(
    "mailgun-public-key",
    "Mailgun public validation key",
    "messaging",
    "low",
    ["pubkey-"],
    `pubkey-${HEX32}`,
  ),
  assigned(
    "mailgun-webhook-signing-key",
    "Mailgun webhook signing key",
    "messaging",
    "medium",
    "mailgun",
    "[a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8}",
  ),
  token("mailchimp-api-key", "Mailchimp API key", "messaging", "high", ["-us"], `${HEX32}-us\\d{1,2}`),
  assigned("postmark-server-token", "Postmark server token", "messaging", "high", "postmark", UUID),
  assigned("mandrill-api-key", "Mandrill API key", "messaging", "high", "mandrill", URLSAFE(22), {
    entropy: 3.5,
  }),
  token(
    "brevo-api-key",
    "Brevo (Sendinblue) API key",
    "messaging",
    "high",
    ["xkeysib-"],
    `xkeysib-${HEX64}-${B62(16)}`,
  ),
  token(
    "brevo-smtp-key",
    "Brevo SMTP key",
    "messaging",
    "high",
    ["xsmtpsib-"],
    `xsmtpsib-${HEX64}-${B62(16)}`,
  ),
  assigned("sparkpost-api-key", "SparkPost API key", "messaging", "high", "sparkpost", HEX40),
  assigned("mailjet-api-secret", "Mailjet API secret", "messaging", "high", "mailjet|mj_apikey", HEX32),
  token("resend-api-key", "Resend API key", "messaging", "high", ["re_"], `re_${B62(8)}_${B62(24)}`, {
    entropy: 3.5,
  }),
  token(
    "telegram-bot-token",
    "Telegram bot token",
    "messaging",
    "high",
    [":aa"],
    `[0-9]{8,10}:AA${URLSAFE(33)}`,
  ),
  assigned(
    "discord-bot-token",
    "Discord bot token",
    "messaging",
    "high",
    "discord",
    `[MNO]${URLSAFE("23,25")}\\.${URLSAFE(6)}\\.${URLSAFE("27,38")}`,
  ),
  token(
    "discord-webhook-url",
    "Discord webhook URL",
    "messaging",
    "high",
    ["discord.com/api/webhooks", "discordapp.com/api/webhooks"],
    `https://discord(?:app)?\\.com/api/webhooks/\\d{17,20}/${URLSAFE("60,68")}`,
  ),
  token(
    "teams-webhook-url",
    "Microsoft Teams incoming webhook URL",
    "messaging",
    "medium",
    ["webhook.office.com"],
    `https://[a-z0-9-]+\\.webhook\\.office\\.com/webhookb2/${UUID}@${UUID}/IncomingWebhook/${HEX32}/${UUID}`,
  ),
  assigned("mattermost-token", "Mattermost access token", "messaging", "high", "mattermost", "[a-z0-9]{26}", {
    entropy: 3.5,
  }),
  assigned("zendesk-api-token", "Zendesk API token", "saas", "high", "zendesk", B62(40), { entropy: 4 }),
  assigned(
    "intercom-access-token",
    "Intercom access token",
    "saas",
    "high",
    "intercom",
    "[A-Za-z0-9=_\\-]{60}",
    { entropy: 4 },
  ),
  assigned("twitch-api-token", "Twitch API token", "messaging", "medium", "twitch", "[a-z0-9]{30}", {
    entropy: 3.5,
  }),
  // 16 random base62 characters have under 3.5 bits of entropy 4.3% of the time, under 3 bits 0.007%.
  assigned("vonage-api-secret", "Vonage (Nexmo) API secret", "messaging", "high", "vonage|nexmo", B62(16), {
    entropy: 3,
  }),
  assigned("messagebird-api-key", "MessageBird API key", "messaging", "high", "messagebird", B62(25), {
    entropy: 3.5,
  }),
  // 20 random hex digits: under 3 bits 2.9% of the time, under 2.5 bits 0.007%.
  assigned("pusher-secret", "Pusher app secret", "messaging", "high", "pusher", "[a-f0-9]{20}", {
    entropy: 2.5,
  }),
  token(
    "facebook-access-token",
    "Facebook (Meta) access token",
    "saas",
    "high",
    ["eaa"],
    "EAA[A-Za-z0-9]{90,400}",
    { entropy: 4 },
  ),
  assigned(
    "facebook-app-secret",
    "Facebook (Meta) app secret",
    "saas",
    "high",
    "facebook|fb_app|fb_secret",
    HEX32,
  ),
  token(
    "twitter-bearer-token",
    "X (Twitter) bearer token",
    "saas",
    "high",
    ["aaaaaaaaaaaaaaaaaaaaa"],
    // Percent signs only as URL escapes (%2B, %3D): a bare "%s" reads as a format placeholder.
    "AAAAAAAAAAAAAAAAAAAAA(?:[A-Za-z0-9]|%[0-9A-F]{2}){30,120}",
    { entropy: 3.5, repeatsAllowed: true },
  ),
  assigned("twitter-api-secret", "X (Twitter) API secret", "saas", "high", "twitter", B62(50), {
    entropy: 4,
  }),
  assigned("linkedin-client-secret", "LinkedIn client secret", "saas", "high", "linkedin", B62(16), {
    entropy: 3,
  }),
  assigned("sendbird-api-token", "Sendbird API token", "messaging", "high", "sendbird", HEX40),

  // ── Package registries ─────────────────────────────────────────────────────────────────────────
  token("npm-access-token", "npm access token", "package-registry", "high", ["npm_"], `npm_${B62(36)}`, {
    validate: (s) => hasBase62Crc32Suffix(s, 4),
    sample: () => withBase62Crc32("npm_", randomBase62(30)),
  }),
  {
    id: "npmrc-auth-token",
    title: "Registry auth token in .npmrc / .yarnrc",
    category: "package-registry",
    severity: "high",
    keywords: ["_authtoken", "npmauthtoken"],
    regex: /(?:_authToken|npmAuthToken)\s*[=:]\s*["']?([A-Za-z0-9_\-+/.=]{20,200})/,
    secretGroup: 1,
    entropy: 3.5,
    validate: (s) => !looksLikeGenericNonSecret(s),
    sample: () => `//npm.acme.io/:_authToken=${randomBase62(40)}`,
  },
  token(
    "pypi-token",
    "PyPI upload token",
    "package-registry",
    "high",
    ["pypi-ageichlwas5vcmc"],
    `pypi-AgEIcHlwaS5vcmc${URLSAFE("50,1000")}`,
  ),
  token(
    "test-pypi-token",
    "TestPyPI upload token",
    "package-registry",
    "low",
    ["pypi-agendgvzdc5wexbplm9yzw"],
    `pypi-AgENdGVzdC5weXBpLm9yZw${URLSAFE("50,1000")}`,
  ),
  token(
    "rubygems-api-key",
    "RubyGems API key",
    "package-registry",
    "high",
    ["rubygems_"],
    "rubygems_[a-f0-9]{48}",
  ),
  token("nuget-api-key", "NuGet API key", "package-registry", "high", ["oy2"], "oy2[a-z0-9]{43}", {
    entropy: 3.5,
  }),
  token(
    "clojars-token",
    "Clojars deploy token",
    "package-registry",
    "high",
    ["clojars_"],
    "CLOJARS_[a-z0-9]{60}",
  ),
  token("crates-io-token", "crates.io API token", "package-registry", "high", ["cio"], `cio${B62(32)}`, {
    entropy: 3.5,
  }),
  token(
    "jfrog-reference-token",
    "JFrog Artifactory reference token",
    "package-registry",
    "high",
    ["cmvmdgtu"],
    `cmVmdGtu[A-Za-z0-9]{56}`,
  ),
  assigned(
    "jfrog-api-key",
    "JFrog Artifactory API key",
    "package-registry",
    "high",
    "artifactory|jfrog",
    `AKC${B62("69,73")}`,
  ),
  token("hex-pm-key", "Hex.pm API key", "package-registry", "high", ["hex_"], `hex_${URLSAFE(32)}`, {
    entropy: 3.5,
    keywords: ["hex_api", "hex_"],
  }),
  {
    id: "maven-settings-password",
    title: "Password in Maven settings.xml / XML config",
    category: "package-registry",
    severity: "high",
    keywords: ["<password>"],
    regex: /<password>([^<>\s$]{6,128})<\/password>/i,
    secretGroup: 1,
    validate: passwordValue,
    sample: () =>
      `<server><id>acme</id><username>deploy</username><password>${randomBase62(16)}</password></server>`,
  },

  // ── AI providers ───────────────────────────────────────────────────────────────────────────────
  token(
    "openai-api-key",
    "OpenAI API key",
    "ai",
    "high",
    ["t3blbkfj"],
    `sk-(?:proj-|svcacct-|admin-)?${URLSAFE("20,74")}T3BlbkFJ${URLSAFE("20,74")}`,
  ),
  token(
    "anthropic-api-key",
    "Anthropic API key",
    "ai",
    "high",
    ["sk-ant-api03-"],
    `sk-ant-api03-${URLSAFE(93)}AA`,
  ),
  token(
    "anthropic-admin-key",
    "Anthropic admin key",
    "ai",
    "high",
    ["sk-ant-admin01-"],
    `sk-ant-admin01-${URLSAFE(93)}AA`,
  ),
  token("huggingface-token", "Hugging Face access token", "ai", "high", ["hf_"], "hf_[A-Za-z]{34}", {
    entropy: 3.5,
  }),
  token(
    "huggingface-org-token",
    "Hugging Face organisation token",
    "ai",
    "high",
    ["api_org_"],
    "api_org_[A-Za-z]{34}",
    { entropy: 3.5 },
  ),
  token("groq-api-key", "Groq API key", "ai", "high", ["gsk_"], `gsk_${B62(52)}`),
  token("replicate-api-token", "Replicate API token", "ai", "high", ["r8_"], `r8_${B62(37)}`),
  token("perplexity-api-key", "Perplexity API key", "ai", "high", ["pplx-"], `pplx-${B62(48)}`),
  token("xai-api-key", "xAI API key", "ai", "high", ["xai-"], `xai-${B62(80)}`),
  token("openrouter-api-key", "OpenRouter API key", "ai", "high", ["sk-or-v1-"], `sk-or-v1-${HEX64}`),
  token(
    "langsmith-api-key",
    "LangSmith API key",
    "ai",
    "high",
    ["lsv2_"],
    `lsv2_(?:pt|sk)_${HEX32}_[a-f0-9]{10}`,
  ),
  token("pinecone-api-key", "Pinecone API key", "ai", "high", ["pcsk_"], "pcsk_[A-Za-z0-9_]{50,80}", {
    entropy: 4,
  }),
  token("fireworks-api-key", "Fireworks AI API key", "ai", "high", ["fw_"], `fw_${B62(24)}`, {
    entropy: 3.5,
  }),
  assigned("cohere-api-key", "Cohere API key", "ai", "high", "cohere|co_api", B62(40), { entropy: 4 }),
  assigned("mistral-api-key", "Mistral API key", "ai", "high", "mistral", B62(32), { entropy: 3.75 }),
  assigned("deepseek-api-key", "DeepSeek API key", "ai", "high", "deepseek", `sk-${HEX32}`),
  assigned("together-api-key", "Together AI API key", "ai", "high", "together", HEX64),
  assigned(
    "elevenlabs-api-key",
    "ElevenLabs API key",
    "ai",
    "high",
    "elevenlabs|xi_api_key|xi-api-key",
    "(?:sk_)?[a-f0-9]{32,48}",
  ),
  assigned("assemblyai-api-key", "AssemblyAI API key", "ai", "high", "assemblyai|assembly_ai", HEX32),
  assigned("deepgram-api-key", "Deepgram API key", "ai", "high", "deepgram", HEX40),
  assigned("stability-api-key", "Stability AI API key", "ai", "high", "stability", `sk-${B62(48)}`),
  assigned("wandb-api-key", "Weights & Biases API key", "ai", "high", "wandb", HEX40),
  assigned("voyage-api-key", "Voyage AI API key", "ai", "high", "voyage", `pa-${URLSAFE(43)}`),

  // ── Observability and SaaS ─────────────────────────────────────────────────────────────────────
  assigned("datadog-api-key", "Datadog API key", "saas", "high", "datadog|dd_api", HEX32),
  assigned("datadog-app-key", "Datadog application key", "saas", "high", "datadog|dd_app", HEX40),
  token("newrelic-user-api-key", "New Relic user API key", "saas", "high", ["nrak-"], "NRAK-[A-Z0-9]{27}"),
  token("newrelic-insert-key", "New Relic insert key", "saas", "high", ["nrii-"], "NRII-[A-Za-z0-9_\\-]{32}"),
  token(
    "newrelic-browser-key",
    "New Relic browser API key",
    "saas",
    "medium",
    ["nrjs-"],
    "NRJS-[a-f0-9]{19}",
  ),
  token(
    "sentry-org-token",
    "Sentry organisation token",
    "saas",
    "high",
    ["sntrys_"],
    "sntrys_eyJ[A-Za-z0-9+/=_\\-]{80,400}",
  ),
  token("sentry-user-token", "Sentry user token", "saas", "high", ["sntryu_"], `sntryu_${HEX64}`),
  token(
    "grafana-cloud-token",
    "Grafana Cloud API token",
    "saas",
    "high",
    ["glc_"],
    "glc_[A-Za-z0-9+/]{32,400}={0,2}",
    { entropy: 4 },
  ),
  token(
    "grafana-service-account-token",
    "Grafana service account token",
    "saas",
    "high",
    ["glsa_"],
    `glsa_${B62(32)}_[A-Fa-f0-9]{8}`,
  ),
  assigned("algolia-admin-key", "Algolia admin API key", "saas", "high", "algolia", HEX32),
  token(
    "mapbox-secret-token",
    "Mapbox secret token",
    "saas",
    "high",
    ["sk.eyj"],
    `sk\\.eyJ${URLSAFE("50,200")}\\.${URLSAFE("20,40")}`,
  ),
  token(
    "dropbox-access-token",
    "Dropbox short-lived access token",
    "saas",
    "high",
    ["sl."],
    `sl\\.${URLSAFE("130,152")}`,
    { entropy: 4 },
  ),
  assigned("asana-pat", "Asana personal access token", "saas", "high", "asana", "\\d/\\d{16}:[a-f0-9]{32}"),
  token("linear-api-key", "Linear API key", "saas", "high", ["lin_api_"], `lin_api_${B62(40)}`),
  token(
    "notion-token",
    "Notion integration token",
    "saas",
    "high",
    ["ntn_", "secret_"],
    `(?:ntn_[0-9]{11}${B62(35)}|secret_${B62(43)})`,
  ),
  token(
    "airtable-pat",
    "Airtable personal access token",
    "saas",
    "high",
    ["airtable"],
    `pat${B62(14)}\\.${HEX64}`,
  ),
  token("figma-pat", "Figma personal access token", "saas", "high", ["figd_"], `figd_${URLSAFE(40)}`),
  token("postman-api-key", "Postman API key", "saas", "high", ["pmak-"], "PMAK-[a-f0-9]{24}-[a-f0-9]{34}"),
  token(
    "contentful-pat",
    "Contentful personal access token",
    "saas",
    "high",
    ["cfpat-"],
    `CFPAT-${URLSAFE(43)}`,
  ),
  token(
    "typeform-pat",
    "Typeform personal access token",
    "saas",
    "high",
    ["tfp_"],
    "tfp_[A-Za-z0-9_.=\\-]{59}",
  ),
  token(
    "hubspot-pat",
    "HubSpot private app token",
    "saas",
    "high",
    ["pat-na1-", "pat-eu1-"],
    `pat-(?:na|eu)1-${UUID}`,
  ),
  token("prefect-api-key", "Prefect API key", "saas", "high", ["pnu_"], `pnu_${B62(36)}`),
  token("readme-api-key", "ReadMe API key", "saas", "high", ["rdme_"], "rdme_[a-z0-9]{70}"),
  token(
    "frameio-token",
    "Frame.io developer token",
    "saas",
    "high",
    ["fio-u-"],
    `fio-u-[A-Za-z0-9_=\\-]{64}`,
  ),
  token("adobe-client-secret", "Adobe client secret", "saas", "high", ["p8e-"], `p8e-${B62(32)}`, {
    entropy: 3.5,
  }),
  assigned("launchdarkly-token", "LaunchDarkly access token", "saas", "high", "launchdarkly", `api-${UUID}`),
  assigned("rollbar-token", "Rollbar access token", "saas", "high", "rollbar", HEX32),
  assigned("bugsnag-api-key", "Bugsnag API key", "saas", "medium", "bugsnag", HEX32),
  assigned("honeycomb-api-key", "Honeycomb API key", "saas", "high", "honeycomb", B62("22,32"), {
    entropy: 3.5,
  }),
  assigned("lokalise-token", "Lokalise API token", "saas", "high", "lokalise", HEX40),
  token(
    "defined-networking-key",
    "Defined Networking API key",
    "saas",
    "high",
    ["dnkey-"],
    `dnkey-${URLSAFE(26)}-${URLSAFE(52)}`,
  ),
  token(
    "salesforce-access-token",
    "Salesforce access token",
    "saas",
    "high",
    ["00d"],
    "00D[A-Za-z0-9]{12,15}![A-Za-z0-9_.]{80,120}",
  ),
  assigned("sumologic-access-key", "Sumo Logic access key", "saas", "high", "sumo", B62(64), { entropy: 4 }),
  assigned(
    "segment-write-key",
    "Segment write key",
    "saas",
    "medium",
    "segment_write|segment_key|segmentwrite",
    B62(32),
    { entropy: 3.5 },
  ),
  token(
    "age-secret-key",
    "age secret key",
    "private-key",
    "high",
    ["age-secret-key-1"],
    "AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
  ),
  assigned(
    "crypto-wallet-private-key",
    "Cryptocurrency wallet private key",
    "private-key",
    "high",
    "wallet|eth_private|private_key|privkey|mnemonic_key",
    "(?:0x)?[a-f0-9]{64}",
    {
      sampleName: "WALLET_PRIVATE_KEY",
      keywords: ["wallet", "eth_private", "private_key", "privkey"],
    },
  ),

  // ── Private keys ───────────────────────────────────────────────────────────────────────────────
  privateKeyRule("private-key-rsa", "RSA private key (PKCS#1)", "RSA PRIVATE KEY", () =>
    pem("RSA PRIVATE KEY", randomDer()),
  ),
  privateKeyRule("private-key-pkcs8", "Private key (PKCS#8)", "PRIVATE KEY", () =>
    pem("PRIVATE KEY", randomDer()),
  ),
  privateKeyRule("private-key-ec", "EC private key", "EC PRIVATE KEY", () =>
    pem("EC PRIVATE KEY", randomDer()),
  ),
  privateKeyRule("private-key-dsa", "DSA private key", "DSA PRIVATE KEY", () =>
    pem("DSA PRIVATE KEY", randomDer()),
  ),
  privateKeyRule(
    "private-key-openssh",
    "OpenSSH private key without passphrase",
    "OPENSSH PRIVATE KEY",
    () => {
      const body = Buffer.concat([
        Buffer.from("openssh-key-v1\0"),
        u32str("none"),
        u32str("none"),
        randomBytes(200),
      ]);
      return pem("OPENSSH PRIVATE KEY", body);
    },
  ),
  privateKeyRule("private-key-pgp", "OpenPGP secret key without passphrase", "PGP PRIVATE KEY BLOCK", () => {
    const body = Buffer.concat([
      Buffer.from([4, 0x65, 0x5a, 0x1b, 0x00, 25]),
      randomBytes(32),
      Buffer.from([0]),
      randomBytes(32),
    ]);
    const packet = Buffer.concat([Buffer.from([0xc5, body.length]), body]);
    return `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${packet.toString("base64")}\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----`;
  }),
  {
    id: "private-key-putty",
    title: "PuTTY private key without passphrase",
    category: "private-key",
    severity: "high",
    keywords: ["putty-user-key-file-"],
    regex: /(PuTTY-User-Key-File-\d: [^\r\n]{3,40}\r?\nEncryption: none)/,
    secretGroup: 1,
    multiline: true,
    sample: () =>
      `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: ops@acme\nPublic-Lines: 2\n${randomBytes(48).toString("base64")}`,
  },

  // ── Tokens and credentials in general formats ──────────────────────────────────────────────────
  token(
    "jwt",
    "JSON Web Token",
    "token",
    "medium",
    ["eyj"],
    `eyJ${URLSAFE("10,2000")}\\.eyJ${URLSAFE("10,8000")}\\.${URLSAFE("10,1000")}`,
    {
      validate: jwtValid,
      sample: () => sampleJwt(),
    },
  ),
  {
    id: "http-basic-auth",
    title: "HTTP Basic credentials",
    category: "token",
    severity: "high",
    keywords: ["basic "],
    regex: /Authorization["']?\s*[:=,]\s*["']?Basic\s+([A-Za-z0-9+/]{12,200}={0,2})/i,
    secretGroup: 1,
    validate: (s) => {
      const d = decodeBase64(s)?.toString("utf8") ?? "";
      const i = d.indexOf(":");
      return (
        i > 0 && d.length - i > 4 && /^[\x20-\x7e]+$/.test(d) && !looksLikeGenericNonSecret(d.slice(i + 1))
      );
    },
    sample: () =>
      `curl -H "Authorization: Basic ${Buffer.from(`svc:${randomBase62(18)}`).toString("base64")}" https://api.acme.io`,
  },
  {
    id: "http-bearer-token",
    title: "HTTP Bearer token",
    category: "token",
    severity: "medium",
    keywords: ["bearer "],
    regex: /Authorization["']?\s*[:=,]\s*["'`]?Bearer\s+([A-Za-z0-9._~+/-]{20,500}=*)/i,
    secretGroup: 1,
    entropy: 3.7,
    validate: (s) => !looksLikeGenericNonSecret(s) && /\d/.test(s),
    // The validator wants a digit (prose has none): 40 random base62 characters lack one 0.09% of the time.
    sample: () =>
      `curl -H "Authorization: Bearer ${randomBase62(39)}${randomBytes(1)[0]! % 10}" https://api.acme.io/v1/me`,
  },

  // ── Databases ──────────────────────────────────────────────────────────────────────────────────
  dbUrl("postgres-connection-string", "PostgreSQL connection string with password", "postgres(?:ql)?", [
    "postgres://",
    "postgresql://",
  ]),
  dbUrl(
    "mysql-connection-string",
    "MySQL / MariaDB connection string with password",
    "mysql|mariadb|mysql2|mysqlx",
    ["mysql://", "mariadb://", "mysql2://", "mysqlx://"],
  ),
  dbUrl("mongodb-connection-string", "MongoDB connection string with password", "mongodb(?:\\+srv)?", [
    "mongodb+srv://",
    "mongodb://",
  ]),
  dbUrl("redis-connection-string", "Redis connection string with password", "rediss?", [
    "redis://",
    "rediss://",
  ]),
  dbUrl("amqp-connection-string", "AMQP (RabbitMQ) URL with password", "amqps?", ["amqp://", "amqps://"]),
  dbUrl("mssql-connection-string", "SQL Server URL with password", "mssql|sqlserver", [
    "mssql://",
    "sqlserver://",
  ]),
  dbUrl(
    "other-database-url",
    "Database URL with password",
    "clickhouse|cockroachdb|couchdb|neo4j(?:\\+s)?|bolt|cassandra|oracle|db2",
    [
      "clickhouse://",
      "cockroachdb://",
      "couchdb://",
      "neo4j://",
      "neo4j+s://",
      "bolt://",
      "cassandra://",
      "oracle://",
      "db2://",
    ],
  ),
  {
    id: "ado-connection-string",
    title: "Connection string with password (ADO.NET / JDBC / ODBC)",
    category: "database",
    severity: "high",
    keywords: ["password=", "pwd="],
    regex:
      /(?:Server|Data Source|Host|jdbc:[a-z]+:)[^;"'\n]{1,200};[^"'\n]{0,200}?(?:Password|Pwd)=([^;"'\s]{4,128})/i,
    secretGroup: 1,
    validate: (s) => passwordValue(s) && !/^\{.*\}$/.test(s),
    sample: () => `Server=sql-7.acme.internal;Database=orders;User Id=app;Password=${randomBase62(14)};`,
  },
  dbUrl(
    "url-credentials",
    "Credentials in a URL",
    "https?|ftps?|sftp|smtps?|ldaps?|git\\+https|ssh",
    [
      "https://",
      "http://",
      "ftp://",
      "ftps://",
      "sftp://",
      "smtp://",
      "smtps://",
      "ldap://",
      "ldaps://",
      "git+https://",
      "ssh://",
    ],
    "medium",
  ),

  // ── Generic, name-based ────────────────────────────────────────────────────────────────────────
  {
    id: "generic-api-key",
    title: "Generic API key or secret",
    category: "generic",
    severity: "medium",
    generic: true,
    keywords: [
      "apikey",
      "api_key",
      "api-key",
      "api_secret",
      "apisecret",
      "secret",
      "token",
      "credential",
      "auth",
      "accesskey",
      "access_key",
      "access-key",
    ],
    regex:
      /(?:api[_.-]?key|apikey|api[_.-]?secret|secret[_.-]?key|access[_.-]?key|access[_.-]?token|auth[_.-]?token|auth[_.-]?key|client[_.-]?secret|app[_.-]?secret|private[_.-]?token|secret|credentials?|token)(?:[\w.-]{0,20}?)["'\]]{0,2}\s{0,3}(?:=|:=|:|=>|\?=)\s{0,3}["'`]?([A-Za-z0-9_\-+/=.~]{16,200})(?=["'`\s;,)\]}]|$)/i,
    secretGroup: 1,
    entropy: 3.5,
    validate: genericValue,
    secretPattern: "[A-Za-z0-9]{32}",
    sampleName: "PAYMENTS_API_KEY",
  },
  {
    id: "generic-password",
    title: "Hard-coded password",
    category: "generic",
    severity: "medium",
    generic: true,
    keywords: ["passw", "pwd", "passwort"],
    regex:
      /(?:passw(?:or)?d|passwort|pwd)(?:[\w.-]{0,20}?)["'\]]{0,2}\s{0,3}(?:=|:=|:|=>)\s{0,3}(?:(["'`])([^"'`\s$]{6,128})\1|([^"'`\s$#;,(){}[\]]{6,128})\s*$)/im,
    secretGroup: 2,
    entropy: 2.5,
    validate: passwordValue,
    sample: () => `DB_PASSWORD="${randomBase62(6)}!${randomBase62(6)}"`,
  },
];

function u32str(s: string): Buffer {
  const b = Buffer.alloc(4 + s.length);
  b.writeUInt32BE(s.length, 0);
  b.write(s, 4, "latin1");
  return b;
}

function randomDer(): Buffer {
  // Shape of a DER SEQUENCE: enough for the structural check; real keys are used in the tests.
  const body = randomBytes(600);
  return Buffer.concat([Buffer.from([0x30, 0x82, 0x02, 0x58]), body]);
}

/** Self-evident tokens first, name-based rules after, generic last: on overlapping matches the first wins. */
export const builtinRules: SecretRule[] = [
  ...declaredRules.filter((r) => !r.generic && !r.contextual),
  ...declaredRules.filter((r) => r.contextual),
  ...declaredRules.filter((r) => r.generic),
];
