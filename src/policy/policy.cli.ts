import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { defaultPolicyText } from "./default-policies.ts";
import { wardenCedarSchema } from "./policy.cedar-schema.ts";
import { type PolicySample, policySamplesFileSchema } from "./policy.schemas.ts";
import type { PolicyIssue, PolicyTestReport } from "./policy.service.ts";

/** Cedar's WebAssembly loads only for the policy commands, not for every `warden` start. */
const loadCedar = () => import("./policy.service.ts");

/** Where the commands write and how they end; tests pass their own. */
export interface PolicyCliIo {
  out(line: string): void;
  err(line: string): void;
  exit(code: number): void;
}

const processIo: PolicyCliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  exit: (code) => {
    process.exitCode = code;
  },
};

/**
 * Exit codes of `warden policy ...`:
 * 0 success (valid set; every sample with `expect` matched);
 * 1 the check failed (invalid policy set for `validate`; a sample decided otherwise than expected);
 * 2 the command could not run (unreadable file, bad samples file, invalid policy set for `test`).
 */
export const policyExitCodes = { ok: 0, failed: 1, unusable: 2 } as const;

class CliInputError extends Error {}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new CliInputError(`Cannot read the ${what} ${path}: ${reason}.`);
  }
}

function parseSamples(path: string, text: string): PolicySample[] {
  let raw: unknown;
  try {
    raw = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new CliInputError(
      `${path} is not valid ${/\.json$/i.test(path) ? "JSON" : "YAML"}: ${(e as Error).message}`,
    );
  }
  const parsed = policySamplesFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues
      .slice(0, 10)
      .map((i) => `  ${i.path.length ? i.path.join(".") : "(file)"}: ${i.message}`);
    throw new CliInputError(
      `${path} does not hold valid samples (a list of requests, or { samples: [...] }):\n${lines.join("\n")}`,
    );
  }
  return parsed.data;
}

export function formatIssue(file: string, issue: PolicyIssue): string {
  const where = issue.line ? `${file}:${issue.line}:${issue.column}` : file;
  const policy = issue.policyId ? ` [${issue.policyId}]` : "";
  const help = issue.help ? `\n    help: ${issue.help}` : "";
  return `${where}${policy}: ${issue.message}${help}`;
}

function printReport(io: PolicyCliIo, report: PolicyTestReport): void {
  for (const r of report.results) {
    const mark = r.matches === null ? "    " : r.matches ? "PASS" : "FAIL";
    const by = r.decision.policies.length ? r.decision.policies.join(", ") : "no permit matched";
    const expected = r.matches === false ? ` (expected ${r.expected})` : "";
    io.out(
      `${mark}  ${r.name}: ${r.request.action}.${r.request.level} on ${r.request.resource.id} → ${r.decision.decision}${expected} by ${by}`,
    );
    for (const e of r.decision.errors) io.out(`      error in ${e.policyId || "request"}: ${e.message}`);
  }
  const withExpectation = report.results.filter((r) => r.matches !== null).length;
  io.out(
    `${report.results.length} samples, ${withExpectation - report.mismatches} passed, ${report.mismatches} failed`,
  );
}

/** Registers `policy test`, `policy validate`, `policy default` and `policy schema` on `program`. */
export function registerPolicyCommands(program: Command, io: PolicyCliIo = processIo): void {
  const policy = program.command("policy").description("Cedar access policies: validate and try them");

  const run = async (body: () => Promise<number>) => {
    try {
      io.exit(await body());
    } catch (e) {
      if (e instanceof CliInputError) {
        io.err(e.message);
        io.exit(policyExitCodes.unusable);
        return;
      }
      throw e;
    }
  };

  policy
    .command("test")
    .description("Decide sample requests (JSON or YAML file) with a policy set and print each decision")
    .argument(
      "<samples>",
      "file of sample requests: a list, or { samples: [...] }; each may carry name and expect",
    )
    .option("-p, --policies <file>", "Cedar policy file (default: Warden's default policy set)")
    .option("--json", "print the full report as JSON")
    .action(async (samplesPath: string, options: { policies?: string; json?: boolean }) =>
      run(async () => {
        const policyText = options.policies
          ? await readText(options.policies, "policy file")
          : defaultPolicyText;
        const policyFile = options.policies ?? "(default policies)";
        const samples = parseSamples(samplesPath, await readText(samplesPath, "samples file"));
        const { testPolicies } = await loadCedar();
        const report = testPolicies(policyText, samples);
        if (options.json) io.out(JSON.stringify(report, null, 2));
        if (!report.validation.valid) {
          for (const issue of report.validation.errors) io.err(formatIssue(policyFile, issue));
          io.err("The policy set is not valid; fix it and run the test again.");
          return policyExitCodes.unusable;
        }
        if (!options.json) printReport(io, report);
        return report.mismatches > 0 ? policyExitCodes.failed : policyExitCodes.ok;
      }),
    );

  policy
    .command("validate")
    .description("Check a Cedar policy file against Warden's schema")
    .argument("<file>", "Cedar policy file")
    .action(async (file: string) =>
      run(async () => {
        const { validatePolicySet } = await loadCedar();
        const validation = validatePolicySet(await readText(file, "policy file"));
        for (const issue of validation.errors) io.err(formatIssue(file, issue));
        for (const issue of validation.warnings) io.err(`warning: ${formatIssue(file, issue)}`);
        if (!validation.valid) return policyExitCodes.failed;
        io.out(
          `${file}: valid (${validation.policyIds.length} policies: ${validation.policyIds.join(", ")})`,
        );
        return policyExitCodes.ok;
      }),
    );

  policy
    .command("default")
    .description("Print Warden's default policy set (a starting point for your own)")
    .action(() => {
      io.out(defaultPolicyText);
      io.exit(policyExitCodes.ok);
    });

  policy
    .command("schema")
    .description("Print the Cedar schema policies are validated against")
    .action(() => {
      io.out(wardenCedarSchema);
      io.exit(policyExitCodes.ok);
    });
}
