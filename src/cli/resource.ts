import { readFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { isUuid } from "../core/schemas.ts";
import { api, failOnProblem } from "./client.ts";
import { CliError, EXIT, printJson, printTable } from "./output.ts";

/**
 * REST resources share one command shape: list / show / create / update / delete, with flags for the
 * common fields, `--data JSON` or `--file F` for the whole body, and `--json` on every read.
 */
export interface FieldFlag {
  flags: string;
  field: string;
  description: string;
  parse?: "number" | "list" | "boolean" | "json" | "hours";
  choices?: readonly string[];
}

export interface ResourceSpec {
  name: string;
  singular: string;
  path: string;
  columns: string[];
  fields: FieldFlag[];
  filters?: FieldFlag[];
  examples: string[];
  /** Extra columns computed for the table view from each item. */
  view?: (item: Record<string, unknown>) => Record<string, unknown>;
  noDelete?: boolean;
  noUpdate?: boolean;
}

function parseValue(f: FieldFlag, raw: string): unknown {
  switch (f.parse) {
    case "number": {
      const n = Number(raw);
      if (!Number.isFinite(n))
        throw new CliError(`${f.flags.split(" ")[0]} expects a number, got "${raw}"`, EXIT.usage);
      return n;
    }
    case "list":
      return raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    case "boolean":
      if (!/^(true|false|yes|no)$/i.test(raw))
        throw new CliError(`${f.flags.split(" ")[0]} expects true or false`, EXIT.usage);
      return /^(true|yes)$/i.test(raw);
    case "hours": {
      // "09:00-18:00" (Monday to Friday) or "09:00-18:00/1-6" or "22:00-06:00/1,2,3" (ISO weekdays, 1 = Monday)
      const m = /^(\d{2}:\d{2})-(\d{2}:\d{2})(?:\/([1-7](?:-[1-7])?(?:,[1-7](?:-[1-7])?)*))?$/.exec(raw);
      if (!m)
        throw new CliError(
          `${f.flags.split(" ")[0]} expects HH:MM-HH:MM[/days], e.g. 09:00-18:00/1-5`,
          EXIT.usage,
        );
      const days = new Set<number>();
      for (const part of (m[3] ?? "1-5").split(",")) {
        const [a, b] = part.split("-").map(Number) as [number, number | undefined];
        for (let d = a; d <= (b ?? a); d++) days.add(d);
      }
      return { start: m[1], end: m[2], days: [...days].sort() };
    }
    case "json":
      try {
        return JSON.parse(raw);
      } catch {
        throw new CliError(`${f.flags.split(" ")[0]} expects JSON`, EXIT.usage);
      }
    default:
      return raw;
  }
}

const optKey = (flags: string) =>
  (flags.match(/--([a-z0-9-]+)/)?.[1] ?? "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function addFieldOptions(cmd: Command, fields: FieldFlag[]) {
  for (const f of fields) {
    const o = new Option(f.flags, f.description);
    if (f.choices) o.choices(f.choices as string[]);
    cmd.addOption(o);
  }
  cmd.option("--data <json>", "the whole request body as JSON (flags override its fields)");
  cmd.option("--file <path>", "read the request body from a JSON file");
}

async function bodyFrom(
  opts: Record<string, unknown>,
  fields: FieldFlag[],
): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> = {};
  if (typeof opts.file === "string") {
    try {
      body = JSON.parse(await readFile(opts.file, "utf8"));
    } catch (e) {
      throw new CliError(`Cannot read ${opts.file} as JSON: ${(e as Error).message}`, EXIT.usage);
    }
  }
  if (typeof opts.data === "string") {
    try {
      body = { ...body, ...JSON.parse(opts.data) };
    } catch {
      throw new CliError("--data is not valid JSON", EXIT.usage, `Example: --data '{"name":"Acme"}'`);
    }
  }
  for (const f of fields) {
    const v = opts[optKey(f.flags)];
    if (typeof v === "string") body[f.field] = parseValue(f, v);
  }
  return body;
}

export function output(opts: { json?: boolean }, value: unknown, table: () => void) {
  if (opts.json) printJson(value);
  else table();
}

export function printRecord(rec: Record<string, unknown>) {
  const width = Math.max(...Object.keys(rec).map((k) => k.length));
  for (const [k, v] of Object.entries(rec)) {
    const text = v === null || v === undefined ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v);
    process.stdout.write(`${k.padEnd(width)}  ${text}\n`);
  }
}

export function defineResource(program: Command, spec: ResourceSpec): Command {
  const group = program.command(spec.name).description(`Manage ${spec.name}`);
  group.addHelpText("after", `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join("\n")}`);

  const list = group
    .command("list")
    .description(`List ${spec.name}`)
    .option("--json", "machine-readable output")
    .option("--limit <n>", "how many", "50")
    .option("--offset <n>", "skip this many", "0");
  for (const f of spec.filters ?? []) list.addOption(new Option(f.flags, f.description));
  list.action(async (opts: Record<string, string | boolean>) => {
    const params = new URLSearchParams({ limit: String(opts.limit), offset: String(opts.offset) });
    for (const f of spec.filters ?? []) {
      const v = opts[optKey(f.flags)];
      if (typeof v === "string") params.set(f.field, v);
    }
    const res = await (await api()).request<{ items: Record<string, unknown>[]; total: number }>(
      "GET",
      `${spec.path}?${params}`,
    );
    failOnProblem(res);
    output(opts, res.body, () => {
      printTable(
        res.body.items.map((i) => ({ ...i, ...spec.view?.(i) })),
        spec.columns,
      );
      if (res.body.total > res.body.items.length)
        process.stdout.write(`(${res.body.items.length} of ${res.body.total}; use --offset)\n`);
    });
  });

  group
    .command("show <id>")
    .description(`Show one ${spec.singular}`)
    .option("--json", "machine-readable output")
    .action(async (id: string, opts: { json?: boolean }) => {
      if (!isUuid(id))
        throw new CliError(
          `"${id}" is not a ${spec.singular} id`,
          EXIT.usage,
          `Find ids with \`warden ${spec.name} list\``,
        );
      const res = await (await api()).request<Record<string, unknown>>("GET", `${spec.path}/${id}`);
      failOnProblem(res);
      output(opts, res.body, () => printRecord(res.body));
    });

  const create = group
    .command("create")
    .description(`Create a ${spec.singular}`)
    .option("--json", "machine-readable output");
  addFieldOptions(create, spec.fields);
  create.action(async (opts: Record<string, unknown>) => {
    const res = await (await api()).request<Record<string, unknown>>(
      "POST",
      spec.path,
      await bodyFrom(opts, spec.fields),
    );
    failOnProblem(res);
    output(opts, res.body, () => process.stdout.write(`Created ${spec.singular} ${res.body.id}\n`));
  });

  if (!spec.noUpdate) {
    const update = group
      .command("update <id>")
      .description(`Change a ${spec.singular}`)
      .option("--json", "machine-readable output");
    addFieldOptions(update, spec.fields);
    update.action(async (id: string, opts: Record<string, unknown>) => {
      const res = await (await api()).request<Record<string, unknown>>(
        "PATCH",
        `${spec.path}/${id}`,
        await bodyFrom(opts, spec.fields),
      );
      failOnProblem(res);
      output(opts, res.body, () => process.stdout.write(`Updated ${spec.singular} ${id}\n`));
    });
  }
  if (!spec.noDelete) {
    group
      .command("delete <id>")
      .description(`Delete a ${spec.singular}`)
      .action(async (id: string) => {
        const res = await (await api()).request("DELETE", `${spec.path}/${id}`);
        failOnProblem(res);
        process.stdout.write(`Deleted ${spec.singular} ${id}\n`);
      });
  }
  return group;
}
