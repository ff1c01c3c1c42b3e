import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { AppError } from "../core/errors.ts";
import { type ConfigSource, compileConfig, type LoadedConfig } from "./scan-files.ruleset.ts";
import { type ScanConfig, scanConfigSchema } from "./scan-files.schemas.ts";

export { type ConfigSource, goRegexToJs, type LoadedConfig } from "./scan-files.ruleset.ts";

function readToml(path: string): ScanConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new AppError(
      "bad_request",
      `Cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  let data: unknown;
  try {
    data = parseToml(text);
  } catch (e) {
    throw new AppError(
      "validation_failed",
      `Config file ${path} is not valid TOML: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  const parsed = scanConfigSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError("validation_failed", `Config file ${path}: ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

/** Reads and validates the config file and the gitleaks files it imports (imports first). */
export function readConfigSource(path?: string): ConfigSource {
  const files: ConfigSource["files"] = [];
  const seen = new Set<string>();
  const visit = (file: string, depth: number) => {
    const abs = resolve(file);
    if (seen.has(abs)) return;
    if (depth > 5) throw new AppError("validation_failed", `Config ${file}: imports nested more than 5 deep`);
    seen.add(abs);
    const cfg = readToml(abs);
    const here = dirname(abs);
    for (const imp of [...(cfg.extend?.path ? [cfg.extend.path] : []), ...(cfg.extend?.gitleaks ?? [])])
      visit(resolve(here, imp), depth + 1);
    files.push({ path: abs, depth, config: cfg });
  };
  if (path) visit(path, 0);
  return { files };
}

/** Loads the config (and the gitleaks files it imports) into rules and allowlists. No config: built-in rules. */
export function loadConfig(path?: string): LoadedConfig {
  return compileConfig(readConfigSource(path));
}
