import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { isUuid } from "../core/schemas.ts";
import { api, failOnProblem } from "./client.ts";
import { CliError, EXIT, printJson, printTable } from "./output.ts";
import { defineResource, output, printRecord } from "./resource.ts";

const needId = (id: string, what: string) => {
  if (!isUuid(id))
    throw new CliError(`"${id}" is not a ${what} id`, EXIT.usage, `Find ids with \`warden ${what}s list\``);
};

async function call<T = Record<string, unknown>>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await (await api()).request<T>(method, url, body);
  failOnProblem(res);
  return res.body;
}

export function registerAgreementCommands(program: Command): void {
  const group = defineResource(program, {
    name: "agreements",
    singular: "agreement",
    path: "/api/v1/agreements",
    columns: ["id", "type", "title", "partyName", "state", "effectiveOn", "expiresOn"],
    fields: [
      {
        flags: "--type <type>",
        field: "type",
        description: "agreement type",
        choices: ["nda", "dpa", "ip_assignment", "sow", "msa"],
      },
      { flags: "--vendor <id>", field: "vendorId", description: "party: a vendor" },
      { flags: "--developer <id>", field: "developerId", description: "party: a developer" },
      { flags: "--title <title>", field: "title", description: "title" },
      { flags: "--signed <YYYY-MM-DD>", field: "signedOn", description: "signature date" },
      { flags: "--effective <YYYY-MM-DD>", field: "effectiveOn", description: "effective from" },
      { flags: "--expires <YYYY-MM-DD>", field: "expiresOn", description: "the day it no longer holds" },
      {
        flags: "--terms <json>",
        field: "terms",
        description:
          '{"permittedTools":[],"permittedStorageLocations":[],"incidentResponseHours":24,"dataCategories":[]}',
        parse: "json",
      },
    ],
    filters: [
      { flags: "--type <type>", field: "type", description: "only this type" },
      { flags: "--vendor <id>", field: "vendorId", description: "only this vendor's" },
      { flags: "--developer <id>", field: "developerId", description: "only this developer's" },
      { flags: "--state <state>", field: "state", description: "draft, active, expired or terminated" },
    ],
    examples: [
      "warden agreements create --type nda --vendor <id> --title 'NDA Acme 2026' --signed 2026-11-01 --effective 2026-11-01 --expires 2027-11-01",
      "warden agreements upload <id> signed-nda.pdf",
      "warden agreements activate <id>",
      "warden agreements terminate <id> --on 2026-12-31 --reason 'Vendor offboarded'",
      "warden agreements download <id> --out nda.pdf",
    ],
  });
  group
    .command("activate <id>")
    .description("Activate a draft that has its signed date and signed document")
    .action(async (id: string) => {
      needId(id, "agreement");
      await call("POST", `/api/v1/agreements/${id}/activate`, {});
      process.stdout.write(`Activated agreement ${id}\n`);
    });
  group
    .command("terminate <id>")
    .description("Terminate an agreement from a date (it holds until then)")
    .requiredOption("--on <YYYY-MM-DD>", "the first day it no longer holds")
    .requiredOption("--reason <text>", "why")
    .action(async (id: string, o: { on: string; reason: string }) => {
      needId(id, "agreement");
      await call("POST", `/api/v1/agreements/${id}/terminate`, { terminatedOn: o.on, reason: o.reason });
      process.stdout.write(`Agreement ${id} terminates on ${o.on}\n`);
    });
  group
    .command("upload <id> <pdf>")
    .description("Upload the signed PDF of a draft agreement (stored encrypted, with its SHA-256)")
    .option("--json", "machine-readable output")
    .action(async (id: string, file: string, o: { json?: boolean }) => {
      needId(id, "agreement");
      const data = await readFile(file).catch((e: Error) => {
        throw new CliError(`Cannot read ${file}: ${e.message}`, EXIT.usage);
      });
      const boundary = `----warden${randomBytes(12).toString("hex")}`;
      const name = path.basename(file).replace(/["\r\n]/g, "_");
      const body = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/pdf\r\n\r\n`,
        ),
        data,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const res = await (await api()).request<Record<string, unknown>>(
        "POST",
        `/api/v1/agreements/${id}/document`,
        undefined,
        { "content-type": `multipart/form-data; boundary=${boundary}` },
        body,
      );
      failOnProblem(res);
      output(o, res.body, () =>
        process.stdout.write(`Uploaded ${name} (${data.length} bytes) to agreement ${id}\n`),
      );
    });
  group
    .command("download <id>")
    .description("Download the signed PDF (the download is recorded in the audit trail)")
    .requiredOption("--out <file>", "where to write it (mode 0600)")
    .action(async (id: string, o: { out: string }) => {
      needId(id, "agreement");
      const res = await (await api()).request<Buffer>("GET", `/api/v1/agreements/${id}/document`);
      failOnProblem(res);
      await writeFile(o.out, res.body, { mode: 0o600, flag: "wx" }).catch((e: NodeJS.ErrnoException) => {
        throw new CliError(
          e.code === "EEXIST" ? `${o.out} already exists` : `Cannot write ${o.out}: ${e.message}`,
          EXIT.usage,
        );
      });
      process.stdout.write(`Wrote ${o.out} (${res.body.length} bytes)\n`);
    });
}

interface Vetting {
  decision: string;
  backgroundCheck: { provider: string; result: string; completedOn: string | null } | null;
  awareness: { score: number; takenOn: string } | null;
  culture: { outcome: string };
  drill: { result: string; on: string | null };
  references: { id: string; name: string; verified: boolean }[];
  redFlags: { id: string; kind: string; severity: string; resolved: boolean }[];
}

export function registerVettingCommands(program: Command): void {
  const v = program
    .command("vetting")
    .description("A developer's vetting: checks, references, red flags, decision");
  v.addHelpText(
    "after",
    [
      "\nExamples:",
      "  warden vetting show <developer-id>",
      "  warden vetting update <developer-id> --background Checkr:clear:2026-11-10 --awareness 92:2026-11-12 --culture pass",
      "  warden vetting add-reference <developer-id> --name 'Rita Referee' --company 'Previous Corp'",
      "  warden vetting verify-reference <developer-id> <reference-id>",
      "  warden vetting flag <developer-id> --kind refused_secure_channel --severity high --note 'Asked for files over WhatsApp'",
      "  warden vetting decide <developer-id> --decision approved --reason 'All checks clear'",
    ].join("\n"),
  );
  const base = (id: string) => {
    needId(id, "developer");
    return `/api/v1/developers/${id}/vetting`;
  };
  v.command("show <developer>")
    .description("Show the vetting record")
    .option("--json", "machine-readable output")
    .action(async (id: string, o: { json?: boolean }) => {
      const r = await call<Vetting>("GET", base(id));
      if (o.json) return printJson(r);
      printRecord({
        decision: r.decision,
        backgroundCheck: r.backgroundCheck
          ? `${r.backgroundCheck.provider}: ${r.backgroundCheck.result} (${r.backgroundCheck.completedOn ?? "pending"})`
          : null,
        awareness: r.awareness ? `${r.awareness.score} on ${r.awareness.takenOn}` : null,
        culture: r.culture.outcome,
        drill: `${r.drill.result}${r.drill.on ? ` on ${r.drill.on}` : ""}`,
      });
      process.stdout.write("\nReferences:\n");
      printTable(r.references, ["id", "name", "verified"]);
      process.stdout.write("\nRed flags:\n");
      printTable(r.redFlags, ["id", "kind", "severity", "resolved"]);
    });
  v.command("update <developer>")
    .description("Record checks (each given part replaces the stored one)")
    .option(
      "--background <provider:result[:YYYY-MM-DD]>",
      "background check, result pending|clear|consider|failed",
    )
    .option("--awareness <score:YYYY-MM-DD>", "security-awareness test score (0-100) and date")
    .option("--culture <outcome>", "culture interview: pending|pass|fail")
    .option("--culture-notes <text>", "interview notes")
    .option("--drill <result[:YYYY-MM-DD]>", "mock-breach drill: not_run|passed|failed")
    .action(async (id: string, o: Record<string, string | undefined>) => {
      const body: Record<string, unknown> = {};
      if (o.background) {
        const [provider, result, completedOn] = o.background.split(":");
        body.backgroundCheck = { provider, result, completedOn: completedOn ?? null };
      }
      if (o.awareness) {
        const [score, takenOn] = o.awareness.split(":");
        body.awareness = { score: Number(score), takenOn };
      }
      if (o.culture) body.culture = { outcome: o.culture, notes: o.cultureNotes ?? "" };
      if (o.drill) {
        const [result, on] = o.drill.split(":");
        body.drill = { result, on: on ?? null };
      }
      if (Object.keys(body).length === 0)
        throw new CliError(
          "Nothing to update",
          EXIT.usage,
          "Give at least one of --background, --awareness, --culture, --drill",
        );
      await call("PATCH", base(id), body);
      process.stdout.write("Vetting updated\n");
    });
  v.command("add-reference <developer>")
    .description("Add a reference")
    .requiredOption("--name <name>", "who")
    .option("--company <company>", "where they worked together", "")
    .option("--contact <contact>", "email or phone", "")
    .option("--notes <text>", "notes", "")
    .action(async (id: string, o: { name: string; company: string; contact: string; notes: string }) => {
      const r = await call<{ id: string }>("POST", `${base(id)}/references`, o);
      process.stdout.write(`Added reference ${r.id}\n`);
    });
  v.command("verify-reference <developer> <reference>")
    .description("Mark a reference verified by you")
    .option("--notes <text>", "what was confirmed")
    .action(async (id: string, ref: string, o: { notes?: string }) => {
      needId(ref, "reference");
      await call("POST", `${base(id)}/references/${ref}/verify`, o.notes ? { notes: o.notes } : {});
      process.stdout.write("Reference verified\n");
    });
  v.command("flag <developer>")
    .description("Raise a red flag")
    .requiredOption(
      "--kind <kind>",
      "vague_past_work | pricing_below_market | refused_secure_channel | other",
    )
    .requiredOption("--severity <severity>", "low | medium | high | critical")
    .option("--note <text>", "what happened", "")
    .action(async (id: string, o: { kind: string; severity: string; note: string }) => {
      await call("POST", `${base(id)}/red-flags`, o);
      process.stdout.write("Red flag raised\n");
    });
  v.command("resolve-flag <developer> <flag>")
    .description("Resolve a red flag")
    .requiredOption("--resolution <text>", "how it was resolved")
    .action(async (id: string, flag: string, o: { resolution: string }) => {
      needId(flag, "red flag");
      await call("POST", `${base(id)}/red-flags/${flag}/resolve`, o);
      process.stdout.write("Red flag resolved\n");
    });
  v.command("decide <developer>")
    .description("Record the vetting decision (never by the developer themself)")
    .requiredOption("--decision <decision>", "approved | rejected | pending")
    .requiredOption("--reason <text>", "why")
    .action(async (id: string, o: { decision: string; reason: string }) => {
      await call("POST", `${base(id)}/decision`, o);
      process.stdout.write(`Vetting ${o.decision}\n`);
    });
}

export function registerTrainingCommands(program: Command): void {
  const t = program.command("training").description("Training records and their expiry");
  t.addHelpText(
    "after",
    "\nExamples:\n  warden training list <developer-id>\n  warden training add <developer-id> --course security-awareness --completed 2026-11-01 --score 92 --expires 2027-11-01",
  );
  t.command("list <developer>")
    .description("A developer's training records")
    .option("--json", "machine-readable output")
    .action(async (id: string, o: { json?: boolean }) => {
      needId(id, "developer");
      const r = await call<{ items: Record<string, unknown>[] }>("GET", `/api/v1/developers/${id}/training`);
      output(o, r, () =>
        printTable(r.items, ["id", "course", "completedOn", "score", "expiresOn", "current"]),
      );
    });
  t.command("add <developer>")
    .description("Record a completed course")
    .requiredOption("--course <key>", "course key, e.g. security-awareness")
    .requiredOption("--completed <YYYY-MM-DD>", "completion date")
    .option("--score <n>", "score 0-100")
    .option("--expires <YYYY-MM-DD>", "the day it no longer counts")
    .action(
      async (id: string, o: { course: string; completed: string; score?: string; expires?: string }) => {
        needId(id, "developer");
        const r = await call<{ id: string }>("POST", `/api/v1/developers/${id}/training`, {
          course: o.course,
          completedOn: o.completed,
          score: o.score === undefined ? null : Number(o.score),
          expiresOn: o.expires ?? null,
        });
        process.stdout.write(`Recorded training ${r.id}\n`);
      },
    );
  t.command("delete <record>")
    .description("Delete a training record")
    .action(async (id: string) => {
      needId(id, "training record");
      await call("DELETE", `/api/v1/training/${id}`);
      process.stdout.write(`Deleted training record ${id}\n`);
    });
}
