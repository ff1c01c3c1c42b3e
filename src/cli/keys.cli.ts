import { type Command, Option } from "commander";
import { SEAL_PURPOSES } from "../crypto/keyring.ts";
import { api, failOnProblem } from "./client.ts";
import { CliError, EXIT, printJson, printTable } from "./output.ts";

interface Rotation {
  id: string;
  kind: "kek" | "data";
  state: "running" | "finished";
  purposes: string[];
  total: number;
  done: number;
  remaining: number;
  percent: number;
  startedAt: string;
  finishedAt: string | null;
  lastError: string | null;
}
interface KeysStatus {
  kek: { current: string; accepted: string[]; source: "env" | "file"; inUse: string[] };
  dataKeys: {
    id: string;
    purpose: string;
    version: number;
    kekId: string;
    active: boolean;
    retiredAt: string | null;
    sealedValues: number;
  }[];
  rotations: Rotation[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function describeRotation(r: Rotation): string {
  if (r.kind === "kek") return `master key rotation ${r.id}: ${r.total} data key(s) rewrapped`;
  const left =
    r.state === "finished"
      ? "finished"
      : r.remaining === 0
        ? "every value re-encrypted (the old keys retire once all nodes use the new ones, within minutes)"
        : `${r.percent}% (${r.remaining} of ${r.total} left)`;
  return `data-key rotation ${r.id} [${r.purposes.join(", ")}]: ${left}${r.lastError ? `, last error: ${r.lastError}` : ""}`;
}

export function registerKeysCommands(program: Command): void {
  const keys = program
    .command("keys")
    .description("Encryption at rest: master key and data keys, rotation (admin)");

  keys
    .command("status")
    .description("Master key ids (never the keys), data keys with how many values each seals, rotations")
    .option("--json", "machine-readable output")
    .action(async (opts: { json?: boolean }) => {
      const client = await api();
      const res = await client.request<KeysStatus>("GET", "/api/v1/keys");
      failOnProblem(res);
      const s = res.body;
      if (opts.json) return printJson(s);
      process.stdout.write(
        `master key: ${s.kek.current} (from ${s.kek.source === "env" ? "WARDEN_MASTER_KEY" : "the key file"})\n`,
      );
      if (s.kek.accepted.length) process.stdout.write(`also accepted: ${s.kek.accepted.join(", ")}\n`);
      const stale = s.kek.inUse.filter((k) => k !== s.kek.current);
      if (stale.length)
        process.stdout.write(
          `still wrapping data keys: ${stale.join(", ")} (run: warden keys rotate --kek)\n`,
        );
      process.stdout.write("\n");
      printTable(
        s.dataKeys.map((k) => ({
          purpose: k.purpose,
          version: k.version,
          state: k.active ? "active" : k.retiredAt ? "retired" : "old",
          values: k.sealedValues,
          kek: k.kekId,
        })),
        ["purpose", "version", "state", "values", "kek"],
      );
      const running = s.rotations.find((r) => r.state === "running");
      if (running) process.stdout.write(`\n${describeRotation(running)}\n`);
    });

  keys
    .command("rotate")
    .description("Rotate the master key (--kek) or the data keys (--data); both are online, without downtime")
    .option("--kek", "new master key: a key-file install gets a new file; data keys are rewrapped")
    .option("--data", "new data keys; every sealed value is re-encrypted in the background")
    .addOption(
      new Option("--purpose <purpose...>", "only these data keys (with --data)").choices([...SEAL_PURPOSES]),
    )
    .option("--wait", "with --data: show progress until the re-encryption finishes")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      [
        "",
        "Moving to a new WARDEN_MASTER_KEY (see docs/encryption.md):",
        "  1. restart every node with WARDEN_MASTER_KEY=<new> and WARDEN_MASTER_KEY_PREVIOUS=<old>",
        "  2. warden keys rotate --kek        (rewraps the data keys under the new key)",
        "  3. remove WARDEN_MASTER_KEY_PREVIOUS and restart when `warden keys status` shows no old key",
        "",
        "Examples:",
        "  warden keys rotate --data --wait",
        "  warden keys rotate --data --purpose totp",
      ].join("\n"),
    )
    .action(
      async (opts: { kek?: boolean; data?: boolean; purpose?: string[]; wait?: boolean; json?: boolean }) => {
        if (!opts.kek === !opts.data) {
          throw new CliError("Say what to rotate: --kek or --data", EXIT.usage, "warden keys rotate --help");
        }
        const client = await api();
        if (opts.kek) {
          const res = await client.request<{ rotation: Rotation; keyFile?: string; stillAccepted: string[] }>(
            "POST",
            "/api/v1/keys/kek/rotate",
          );
          failOnProblem(res);
          if (opts.json) return printJson(res.body);
          process.stdout.write(`${describeRotation(res.body.rotation)}\n`);
          if (res.body.keyFile) {
            process.stdout.write(
              `A new master key was written to ${res.body.keyFile}; the old one stays in master.key.previous.\n` +
                "Back the new key up in your secret manager now.\n",
            );
          }
          return;
        }
        const res = await client.request<Rotation>(
          "POST",
          "/api/v1/keys/data/rotate",
          opts.purpose ? { purposes: opts.purpose } : {},
        );
        failOnProblem(res);
        let r = res.body;
        if (!opts.wait) {
          if (opts.json) return printJson(r);
          process.stdout.write(`${describeRotation(r)}\nFollow it with: warden keys status\n`);
          return;
        }
        // Long work shows progress: one line, rewritten in place on a terminal.
        const tty = process.stderr.isTTY === true;
        while (r.state === "running" && r.remaining > 0) {
          process.stderr.write(tty ? `\r${describeRotation(r)}   ` : `${describeRotation(r)}\n`);
          await sleep(2_000);
          const next = await client.request<Rotation>("GET", `/api/v1/keys/rotations/${r.id}`);
          failOnProblem(next);
          r = next.body;
        }
        if (tty) process.stderr.write("\n");
        if (opts.json) printJson(r);
        else process.stdout.write(`${describeRotation(r)}\n`);
      },
    );
}
