import { chmod, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
// A pure helper (node:crypto only): the CLI computes fingerprints exactly as the server does.
import { sshKeyFingerprint } from "../connectors/ssh-wire.ts";
import { isUuid } from "../core/schemas.ts";
import { type ApiClient, api, failOnProblem } from "./client.ts";
import { CliError, EXIT, printJson, printTable } from "./output.ts";

interface Catalog {
  id: string;
  name: string;
  kind: string;
  environment: string;
  dataClass: string;
  levels: string[];
  maxDurationMinutes: number;
  breakGlass: boolean;
}
interface AccessRequest {
  id: string;
  developerName: string;
  resourceName: string;
  environment: string;
  level: string;
  durationMinutes: number;
  reason: string;
  status: string;
  requiredApprovals: number;
  needsSecurity: boolean;
  approvals: { approverName: string; decision: string }[];
  decision: { policies: string[]; reasons: string[] } | null;
  grantId: string | null;
  extendsGrant: boolean;
  expiresAt: string;
}
interface Grant {
  id: string;
  developerName: string;
  resourceName: string;
  environment: string;
  level: string;
  state: string;
  endsAt: string;
  secondsLeft: number;
  externalState: string | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  breakGlass: boolean;
  credential: { format: string; revealed: boolean } | null;
}

async function call<T>(client: ApiClient, method: string, url: string, body?: unknown): Promise<T> {
  const res = await client.request<T>(method, url, body);
  failOnProblem(res);
  return res.body;
}

const needId = (id: string, what: string, hint: string) => {
  if (!isUuid(id)) throw new CliError(`"${id}" is not a ${what} id`, EXIT.usage, hint);
};

/** "90m", "2h", "1d", "1h30m" or plain minutes → minutes. */
export function parseDuration(raw: string): number {
  if (/^\d+$/.test(raw)) return Number(raw);
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(raw.trim());
  if (!m || raw.trim() === "")
    throw new CliError(`--duration expects e.g. 30m, 2h, 1d or 1h30m (got "${raw}")`, EXIT.usage);
  return Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

const left = (seconds: number) => {
  if (seconds <= 0) return "-";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m`;
};

async function whoAmI(client: ApiClient): Promise<{ role: string; developerId: string | null }> {
  const s = await call<{ user: { role: string; developerId: string | null } }>(
    client,
    "GET",
    "/api/v1/auth/session",
  );
  return s.user;
}

/** A resource given by id or by its (case-insensitive) name in the catalog the caller sees. */
async function resolveResource(client: ApiClient, ref: string, developer: boolean): Promise<Catalog> {
  const base = developer ? "/api/v1/me/access/resources" : "/api/v1/access/resources";
  const found = await call<{ items: Catalog[] }>(
    client,
    "GET",
    `${base}?limit=200${isUuid(ref) ? "" : `&q=${encodeURIComponent(ref)}`}`,
  );
  const match = found.items.filter((r) => r.id === ref || r.name.toLowerCase() === ref.toLowerCase());
  if (match.length !== 1)
    throw new CliError(
      `No resource named "${ref}" in the catalog`,
      EXIT.notFound,
      "See `warden access resources`",
    );
  return match[0]!;
}

function printRequest(r: AccessRequest) {
  const approvals = `${r.approvals.filter((a) => a.decision === "approve").length}/${r.requiredApprovals}${r.needsSecurity ? " (+security)" : ""}`;
  process.stdout.write(
    `Request ${r.id}: ${r.status.toUpperCase()} — ${r.level} on ${r.resourceName} (${r.environment}) for ${r.durationMinutes} min\n`,
  );
  process.stdout.write(`  approvals: ${approvals}${r.extendsGrant ? "; extends your live grant" : ""}\n`);
  if (r.decision?.policies.length) process.stdout.write(`  policies: ${r.decision.policies.join(", ")}\n`);
  if (r.grantId) process.stdout.write(`  grant: ${r.grantId}\n`);
}

function printGrant(g: Grant) {
  process.stdout.write(
    `Grant ${g.id}: ${g.state.toUpperCase()} — ${g.level} on ${g.resourceName} (${g.environment}) until ${g.endsAt}\n`,
  );
  if (g.lastError)
    process.stdout.write(
      `  last error: ${g.lastError}${g.nextAttemptAt ? ` (next try ${g.nextAttemptAt})` : ""}\n`,
    );
  if (g.externalState === "pending") process.stdout.write("  accept the invitation the Git host sent you\n");
  if (g.externalState === "invitation_expired" || g.externalState === "absent")
    process.stdout.write(
      `  the invitation ${g.externalState === "absent" ? "was declined or withdrawn" : "expired unaccepted"}: no access; ask again for a new one (it extends this grant)\n`,
    );
  if (g.credential && !g.credential.revealed)
    process.stdout.write(`  password waiting (once): warden access credential ${g.id}\n`);
}

export function registerAccessCommands(program: Command): void {
  const access = program
    .command("access")
    .description("Least-privilege access: ask for, approve and revoke time-bound grants")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  warden access resources",
        "  warden access request orders-db --level read --duration 2h --reason 'Investigate ticket 4711'",
        "  warden access list                 # developers: your grants and requests; approvers: your inbox",
        "  warden access approve <request> --reason 'Sprint work'",
        "  warden access deny <request> --reason 'Use staging'",
        "  warden access revoke <grant> --reason 'Done'",
        "  warden access credential <grant>   # the database password, shown once",
        "  warden access break-glass orders-db --level write --reason 'Outage INC-7'",
      ].join("\n"),
    );

  access
    .command("resources")
    .description("The resource catalog")
    .option("--json", "machine-readable output")
    .action(async (o: { json?: boolean }) => {
      const client = await api();
      const me = await whoAmI(client);
      const base = me.role === "developer" ? "/api/v1/me/access/resources" : "/api/v1/access/resources";
      const page = await call<{ items: Catalog[] }>(client, "GET", `${base}?limit=200`);
      if (o.json) return printJson(page.items);
      printTable(
        page.items.map((r) => ({ ...r, levels: r.levels.join(","), max: `${r.maxDurationMinutes}m` })),
        ["id", "name", "kind", "environment", "dataClass", "levels", "max", "breakGlass"],
      );
    });

  access
    .command("request <resource>")
    .description("Ask for access to a resource (name or id); a live grant on it is extended")
    .requiredOption("--level <level>", "read, write or admin")
    .requiredOption("--duration <duration>", "how long, e.g. 30m, 2h, 1d (capped by the resource)")
    .requiredOption("--reason <text>", "why you need it")
    .option("--start <datetime>", "a scheduled start, e.g. 2026-12-01T08:00:00Z")
    .option("--engagement <id>", "which of your engagements it is for")
    .option("--json", "machine-readable output")
    .action(
      async (
        ref: string,
        o: {
          level: string;
          duration: string;
          reason: string;
          start?: string;
          engagement?: string;
          json?: boolean;
        },
      ) => {
        const minutes = parseDuration(o.duration);
        const client = await api();
        const resource = await resolveResource(client, ref, true);
        const r = await call<AccessRequest>(client, "POST", "/api/v1/me/access/requests", {
          resourceId: resource.id,
          level: o.level,
          durationMinutes: minutes,
          reason: o.reason,
          ...(o.start ? { startsAt: o.start } : {}),
          ...(o.engagement ? { engagementId: o.engagement } : {}),
        });
        if (o.json) return printJson(r);
        printRequest(r);
        process.stdout.write("The approvers have been notified.\n");
      },
    );

  access
    .command("list")
    .description(
      "Developers: your live grants and open requests. Approvers: requests waiting for you and live grants",
    )
    .option("--all", "include ended grants and decided requests")
    .option("--json", "machine-readable output")
    .action(async (o: { all?: boolean; json?: boolean }) => {
      const client = await api();
      const me = await whoAmI(client);
      const dev = me.role === "developer";
      const grants = await call<{ items: Grant[] }>(
        client,
        "GET",
        `${dev ? "/api/v1/me/access/grants" : "/api/v1/access/grants"}?limit=200${o.all ? "" : "&live=true"}`,
      );
      const requests = await call<{ items: AccessRequest[] }>(
        client,
        "GET",
        dev
          ? `/api/v1/me/access/requests?limit=200${o.all ? "" : "&status=pending"}`
          : `/api/v1/access/requests?limit=200${o.all ? "" : "&approver=me"}`,
      );
      if (o.json) return printJson({ requests: requests.items, grants: grants.items });
      process.stdout.write(dev ? "Your requests:\n" : "Requests waiting for your decision:\n");
      printTable(
        requests.items.map((r) => ({
          ...r,
          developer: r.developerName,
          resource: r.resourceName,
          approvals: `${r.approvals.filter((a) => a.decision === "approve").length}/${r.requiredApprovals}${r.needsSecurity ? "+sec" : ""}`,
          minutes: r.durationMinutes,
        })),
        dev
          ? ["id", "resource", "level", "minutes", "status", "approvals"]
          : ["id", "developer", "resource", "environment", "level", "minutes", "approvals", "reason"],
      );
      process.stdout.write(dev ? "\nYour grants:\n" : "\nLive grants:\n");
      printTable(
        grants.items.map((g) => ({
          ...g,
          developer: g.developerName,
          resource: g.resourceName,
          left: left(g.secondsLeft),
          note: g.lastError ?? (g.breakGlass ? "break-glass" : (g.externalState ?? "")),
        })),
        dev
          ? ["id", "resource", "level", "state", "endsAt", "left", "note"]
          : ["id", "developer", "resource", "level", "state", "left", "note"],
      );
    });

  const decide = (verb: "approve" | "deny") =>
    access
      .command(`${verb} <request>`)
      .description(
        `${verb === "approve" ? "Approve" : "Deny"} a request (as an owner of the resource or a security officer)`,
      )
      .requiredOption("--reason <text>", "why (recorded and shown to the requester)")
      .option("--json", "machine-readable output")
      .action(async (id: string, o: { reason: string; json?: boolean }) => {
        needId(id, "request", "See `warden access list` for the requests waiting for you");
        const client = await api();
        const r = await call<AccessRequest>(client, "POST", `/api/v1/access/requests/${id}/${verb}`, {
          reason: o.reason,
        });
        if (o.json) return printJson(r);
        printRequest(r);
        if (r.status === "pending")
          process.stdout.write(
            "Your approval is recorded; the policies need more before access is granted.\n",
          );
        if (r.grantId && r.status === "approved") {
          const g = await call<Grant>(client, "GET", `/api/v1/access/grants/${r.grantId}`);
          printGrant(g);
        }
      });
  decide("approve");
  decide("deny");

  access
    .command("cancel <request>")
    .description("Withdraw your pending request")
    .action(async (id: string) => {
      needId(id, "request", "See `warden access list`");
      const r = await call<AccessRequest>(await api(), "POST", `/api/v1/me/access/requests/${id}/cancel`, {});
      process.stdout.write(`Request ${r.id} cancelled\n`);
    });

  access
    .command("revoke <grant>")
    .description("Revoke a live grant now (the access is removed from the target system)")
    .requiredOption("--reason <text>", "why")
    .option("--json", "machine-readable output")
    .action(async (id: string, o: { reason: string; json?: boolean }) => {
      needId(id, "grant", "See `warden access list`");
      const g = await call<Grant>(await api(), "POST", `/api/v1/access/grants/${id}/revoke`, {
        reason: o.reason,
      });
      if (o.json) return printJson(g);
      printGrant(g);
      if (g.state === "failed")
        process.stdout.write("The connector failed; Warden retries until the access is gone.\n");
    });

  access
    .command("credential <grant>")
    .description("Show a grant's database password — once; it is erased as it is shown")
    .option("--out <file>", "write it to this file (mode 0600) instead of the terminal")
    .action(async (id: string, o: { out?: string }) => {
      needId(id, "grant", "See `warden access list`");
      const c = await call<{ format: "plain" | "age"; value: string; connection: Record<string, unknown> }>(
        await api(),
        "POST",
        `/api/v1/me/access/grants/${id}/credential`,
        {},
      );
      const conn = c.connection;
      if (o.out) {
        await writeFile(o.out, `${c.value}\n`, { mode: 0o600 });
        await chmod(o.out, 0o600);
        process.stdout.write(`Wrote the ${c.format === "age" ? "age-encrypted " : ""}password to ${o.out}\n`);
      } else {
        process.stdout.write(`${c.value}\n`);
      }
      process.stderr.write(
        `role ${String(conn.role)} on ${String(conn.host)}:${String(conn.port)}/${String(conn.database)}, valid until ${String(conn.validUntil)}${c.format === "age" ? "\ndecrypt with: age -d -i <your identity file>" : ""}\n`,
      );
    });

  access
    .command("break-glass <resource>")
    .description(
      "Emergency access (at most 1 hour) to a resource flagged for it; security is alerted at once",
    )
    .requiredOption("--level <level>", "read, write or admin")
    .requiredOption("--reason <text>", "the emergency")
    .option("--duration <duration>", "how long, at most 1h", "1h")
    .action(async (ref: string, o: { level: string; reason: string; duration: string }) => {
      const client = await api();
      const resource = await resolveResource(client, ref, true);
      const g = await call<Grant>(client, "POST", "/api/v1/me/access/break-glass", {
        resourceId: resource.id,
        level: o.level,
        durationMinutes: parseDuration(o.duration),
        reason: o.reason,
      });
      printGrant(g);
      process.stdout.write("Security has been alerted; this access will be reviewed.\n");
    });
}

interface SshCertificateItem {
  grantId: string;
  resourceName: string;
  keyId: string;
  keyFingerprint: string | null;
  keyComment: string;
  principals: string[];
  validBefore: string;
  certificate: string;
}

/** Reads a public key from `file` (or `file.pub` when given the private key's path). */
async function readPublicKey(file: string): Promise<{ line: string; path: string }> {
  const candidates = file.endsWith(".pub") ? [file] : [`${file}.pub`, file];
  for (const p of candidates) {
    const text = await readFile(p, "utf8").catch(() => null);
    if (text === null) continue;
    const line = text.trim().split("\n")[0] ?? "";
    if (/^(ssh-|ecdsa-|sk-)\S+ [A-Za-z0-9+/=]+/.test(line)) return { line, path: p };
  }
  throw new CliError(
    `No OpenSSH public key at ${candidates.join(" or ")}`,
    EXIT.usage,
    "Give --key the path of your key (e.g. ~/.ssh/id_ed25519 or ~/.ssh/id_ed25519.pub)",
  );
}

const fingerprintOrNull = (line: string) => {
  try {
    return sshKeyFingerprint(line);
  } catch {
    return null;
  }
};

/** The public keys in ~/.ssh by fingerprint: where each certificate goes (`<key>-cert.pub`). */
async function localKeys(): Promise<Map<string, string>> {
  const dir = path.join(os.homedir(), ".ssh");
  const found = new Map<string, string>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith(".pub") || name.endsWith("-cert.pub")) continue;
    const line = (await readFile(path.join(dir, name), "utf8").catch(() => "")).trim();
    const fp = fingerprintOrNull(line);
    if (fp && !found.has(fp)) found.set(fp, path.join(dir, name));
  }
  return found;
}

export function registerSshCommands(program: Command): void {
  const ssh = program.command("ssh").description("SSH certificates issued by Warden's certificate authority");
  ssh
    .command("cert")
    .description(
      "Fetch your current SSH certificates (one per registered key, from a live SSH grant) and save each next to its key",
    )
    .option("--resource <resource>", "the SSH resource (name or id), when you hold several")
    .option(
      "--key <file>",
      "only this key (e.g. ~/.ssh/id_ed25519): certified now if it is registered but has no certificate yet",
    )
    .option("--out <file>", "where to write it (default: <key>-cert.pub beside each key in ~/.ssh)")
    .option("--print", "print the certificates instead of writing files")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nThen: ssh -i ~/.ssh/id_ed25519 <account>@<host> (ssh picks up ~/.ssh/id_ed25519-cert.pub by itself)",
    )
    .action(async (o: { resource?: string; key?: string; out?: string; print?: boolean; json?: boolean }) => {
      const client = await api();
      const resourceId = o.resource ? (await resolveResource(client, o.resource, true)).id : undefined;
      const key = o.key ? await readPublicKey(o.key) : undefined;
      // Asking (POST) also certifies registered keys that have no certificate yet (a key added during
      // the grant); without --key, every registered key.
      const found = await call<{ issued: number; items: SshCertificateItem[] }>(
        client,
        "POST",
        "/api/v1/me/ssh/certificates",
        { ...(resourceId ? { resourceId } : {}), ...(key ? { publicKey: key.line } : {}) },
      );
      if (o.json) return printJson(found.items);
      if (found.items.length === 0)
        throw new CliError(
          "You hold no live SSH grant",
          EXIT.notFound,
          "Ask for one: warden access request <ssh resource> --level read --duration 2h --reason ...",
        );
      const resources = [...new Set(found.items.map((c) => c.resourceName))];
      if (resources.length > 1 && !resourceId)
        throw new CliError(
          `You hold SSH grants on ${resources.join(", ")}`,
          EXIT.usage,
          "Pick one with --resource <name>",
        );
      if (o.print) {
        for (const c of found.items) process.stdout.write(`${c.certificate}\n`);
        return;
      }
      const describe = (c: SshCertificateItem) =>
        `${c.keyId}, key ${c.keyComment || c.keyFingerprint || "?"}, principals ${c.principals.join(",")}, valid until ${c.validBefore} (${c.resourceName})`;
      if (o.out) {
        if (found.items.length > 1)
          throw new CliError(
            `You have ${found.items.length} keys certified: --out takes one`,
            EXIT.usage,
            "Name the key with --key <file>, or leave --out out to write each certificate beside its key",
          );
        const cert = found.items[0]!;
        await writeFile(o.out, `${cert.certificate}\n`, { mode: 0o644 });
        process.stdout.write(`Wrote ${o.out}: ${describe(cert)}\n`);
        return;
      }
      const local = key ? null : await localKeys();
      let written = 0;
      for (const c of found.items) {
        const pub = key ? key.path : c.keyFingerprint ? local?.get(c.keyFingerprint) : undefined;
        if (!pub) {
          process.stdout.write(
            `Skipped the certificate for ${c.keyComment || c.keyFingerprint || "a key"}: no matching key in ~/.ssh (use --key <file> or --out <file>)\n`,
          );
          continue;
        }
        const out = `${pub.replace(/\.pub$/, "")}-cert.pub`;
        await writeFile(out, `${c.certificate}\n`, { mode: 0o644 });
        process.stdout.write(`Wrote ${out}: ${describe(c)}\n`);
        written++;
      }
      if (written === 0)
        throw new CliError(
          "None of your certified keys is in ~/.ssh",
          EXIT.notFound,
          "Say where to write it: warden ssh cert --key <your key> or --out <file>",
        );
    });
  ssh
    .command("ca")
    .description("Print Warden's SSH user CA public key (for hosts' TrustedUserCAKeys)")
    .action(async () => {
      const res = await (await api()).request<Buffer>("GET", "/api/v1/ssh/ca.pub");
      failOnProblem(res);
      process.stdout.write(Buffer.isBuffer(res.body) ? res.body.toString("utf8") : String(res.body));
    });
}
