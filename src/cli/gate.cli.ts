import type { Command } from "commander";
import { isUuid } from "../core/schemas.ts";
import { api, failOnProblem } from "./client.ts";
import { CliError, EXIT, printJson } from "./output.ts";

interface Reason {
  message: string;
}
interface DevEligibility {
  developerId: string;
  name: string;
  eligible: boolean;
  reasons: Reason[];
  nextLapse: { date: string; reason: string } | null;
  engagements: { title: string; eligible: boolean; reasons: Reason[] }[];
}

export function registerGateCommands(program: Command): void {
  const gate = program.command("gate").description("Whether the gate lets developers in");
  gate
    .command("check <developer>")
    .description("Check a developer (id or email). Exit code 0: eligible; 1: not eligible")
    .option("--at <datetime>", "evaluate at another instant, e.g. 2026-12-01T00:00:00Z")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  warden gate check ana@acme.example\n  warden gate check 6f1c…e2 --at 2027-01-01T00:00:00Z --json",
    )
    .action(async (developer: string, opts: { at?: string; json?: boolean }) => {
      const client = await api();
      let id = developer;
      if (!isUuid(developer)) {
        const found = await client.request<{ items: { id: string; email: string }[] }>(
          "GET",
          `/api/v1/developers?q=${encodeURIComponent(developer)}&limit=5`,
        );
        failOnProblem(found);
        const exact = found.body.items.filter((d) => d.email.toLowerCase() === developer.toLowerCase());
        if (exact.length !== 1)
          throw new CliError(
            `No developer with email ${developer}`,
            EXIT.notFound,
            "Use `warden developers list` to find the id",
          );
        id = exact[0]!.id;
      }
      const qs = opts.at ? `?at=${encodeURIComponent(opts.at)}` : "";
      const res = await client.request<DevEligibility>("GET", `/api/v1/developers/${id}/eligibility${qs}`);
      failOnProblem(res);
      const e = res.body;
      if (opts.json) printJson(e);
      else {
        process.stdout.write(`${e.name}: ${e.eligible ? "ELIGIBLE" : "NOT ELIGIBLE"}\n`);
        for (const r of e.reasons) process.stdout.write(`  - ${r.message}\n`);
        if (e.nextLapse) process.stdout.write(`  next lapse: ${e.nextLapse.reason}\n`);
        for (const en of e.engagements)
          process.stdout.write(
            `  engagement "${en.title}": ${en.eligible ? "eligible" : `not eligible (${en.reasons.length} reason(s))`}\n`,
          );
      }
      process.exitCode = e.eligible ? EXIT.ok : EXIT.failure;
    });
}
