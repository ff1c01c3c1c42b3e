import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerPolicyCommands } from "./policy.cli.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "warden-policy-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runCli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let code = -1;
  const program = new Command("warden").exitOverride();
  registerPolicyCommands(program, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    exit: (c) => {
      code = c;
    },
  });
  await program.parseAsync(["node", "warden", ...args]);
  return { out: out.join("\n"), err: err.join("\n"), code };
}

const yamlSamples = `samples:
  - name: backend reads staging db
    expect: allow
    action: request
    level: read
    developer: { id: dev-1, vendorId: acme, roles: [backend], eligibility: { eligible: true } }
    resource: { id: db-staging, kind: postgres, environment: staging, dataClass: internal }
  - name: frontend reads staging db
    expect: deny
    action: request
    level: read
    developer: { id: dev-2, roles: [frontend], eligibility: { eligible: true } }
    resource: { id: db-staging, kind: postgres, environment: staging, dataClass: internal }
`;

describe("warden policy test", () => {
  it("prints each decision with the policies that made it and exits 0 when all expectations hold", async () => {
    const file = join(dir, "samples.yaml");
    await writeFile(file, yamlSamples);
    const r = await runCli("policy", "test", file);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      "PASS  backend reads staging db: request.read on db-staging → allow by eligible-may-request",
    );
    expect(r.out).toContain(
      "PASS  frontend reads staging db: request.read on db-staging → deny by frontend-no-database",
    );
    expect(r.out).toContain("2 samples, 2 passed, 0 failed");
  });

  it("exits 1 when a sample decides otherwise than expected", async () => {
    const file = join(dir, "samples.json");
    await writeFile(
      file,
      JSON.stringify([
        {
          name: "prod write",
          expect: "allow",
          action: "approve",
          level: "write",
          developer: { id: "d", roles: ["backend"], eligibility: { eligible: true } },
          resource: { id: "db-prod", kind: "postgres", environment: "production", dataClass: "internal" },
          context: { approvals: 1, approverRoles: ["owner", "security"], inEngagementScope: true },
        },
      ]),
    );
    const r = await runCli("policy", "test", file);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      "FAIL  prod write: approve.write on db-prod → deny (expected allow) by production-write-two-approvers",
    );
  });

  it("tests against a given policy file and refuses an invalid one with file, line and column", async () => {
    const samples = join(dir, "s.yaml");
    await writeFile(samples, yamlSamples);
    const policies = join(dir, "bad.cedar");
    await writeFile(policies, '@id("x")\npermit (principal, action, resource) when { principal.nope };\n');
    const r = await runCli("policy", "test", samples, "--policies", policies);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${policies}:2:`);
    expect(r.err).toContain("nope");
  });

  it("explains a samples file that is not valid", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(file, "- action: fly\n");
    const r = await runCli("policy", "test", file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/does not hold valid samples/);
    expect(r.err).toContain("action");
  });

  it("says which file is missing", async () => {
    const r = await runCli("policy", "test", join(dir, "absent.yaml"));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Cannot read the samples file .*absent\.yaml: no such file/);
  });
});

describe("warden policy validate", () => {
  it("accepts the default set it prints", async () => {
    const printed = await runCli("policy", "default");
    const file = join(dir, "default.cedar");
    await writeFile(file, printed.out);
    const r = await runCli("policy", "validate", file);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/valid \(8 policies/);
  });

  it("exits 1 and prints Cedar's error with its position", async () => {
    const file = join(dir, "typo.cedar");
    await writeFile(
      file,
      '@id("x")\nforbid (principal, action, resource is Warden::Resource)\nwhen { resource.kind == Warden::ResourceKind::"mysql" };\n',
    );
    const r = await runCli("policy", "validate", file);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}:3:25 [x]`);
  });
});
