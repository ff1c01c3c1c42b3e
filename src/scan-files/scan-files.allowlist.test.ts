import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { allowsWholeFiles, createMatcher } from "./scan-files.engine.ts";
import { compileConfig } from "./scan-files.ruleset.ts";
import { scanConfigSchema } from "./scan-files.schemas.ts";

/** A matcher from a gitleaks-style TOML config (only its custom rules, to keep the cases small). */
function matcherFrom(toml: string) {
  const config = scanConfigSchema.parse(parse(`[extend]\nuseDefault = false\n${toml}`));
  const cfg = compileConfig({ files: [{ path: "/cfg/gitleaks.toml", depth: 0, config }] });
  const m = createMatcher(cfg.rules, cfg.allowlists);
  return {
    cfg,
    secrets: (text: string, path = "src/app.ts", commit?: string) =>
      m.scan(text, path, commit).map((x) => x.secret),
  };
}

const RULE = `
[[rules]]
id = "corp-key"
regex = '''key\\s*=\\s*"(corp_[a-z0-9]{12})"'''
keywords = ["corp_"]
`;

describe("gitleaks allowlists", () => {
  it("[[rules.allowlists]] with regexTarget = line: the whole line is tried", () => {
    const m = matcherFrom(`${RULE}
  [[rules.allowlists]]
  regexTarget = "line"
  regexes = ['''#\\s*fixture''']
`);
    expect(m.secrets('key = "corp_a1b2c3d4e5f6" # fixture\nkey = "corp_z9y8x7w6v5u4"')).toEqual([
      "corp_z9y8x7w6v5u4",
    ]);
  });

  it("regexTarget = match: the rule's whole match is tried, not only the secret", () => {
    const m = matcherFrom(`${RULE}
  [[rules.allowlists]]
  regexTarget = "match"
  regexes = ['''^key = "''']
`);
    // Same secret twice: the spaced assignment is allowed, the compact one is not.
    expect(m.secrets('key = "corp_a1b2c3d4e5f6"\nkey="corp_a1b2c3d4e5f6"')).toEqual(["corp_a1b2c3d4e5f6"]);
    // The default target is the secret, which never holds `key = "`.
    const bySecret = matcherFrom(`${RULE}
  [[rules.allowlists]]
  regexes = ['''^key = "''']
`);
    expect(bySecret.secrets('key = "corp_a1b2c3d4e5f6"')).toEqual(["corp_a1b2c3d4e5f6"]);
  });

  it("condition = AND needs every criterion given; OR (the default) any one", () => {
    const lists = `
  regexTarget = "line"
  paths = ['''^test/''']
  regexes = ['''fake''']
`;
    const and = matcherFrom(`${RULE}\n  [[rules.allowlists]]\n  condition = "AND"${lists}`);
    const or = matcherFrom(`${RULE}\n  [[rules.allowlists]]\n  condition = "or"${lists}`);
    const faked = 'key = "corp_a1b2c3d4e5f6" // fake';
    const real = 'key = "corp_a1b2c3d4e5f6"';
    expect(and.secrets(faked, "test/a.ts")).toEqual([]);
    expect(and.secrets(real, "test/a.ts")).toHaveLength(1);
    expect(and.secrets(faked, "src/a.ts")).toHaveLength(1);
    expect(or.secrets(real, "test/a.ts")).toEqual([]);
    expect(or.secrets(faked, "src/a.ts")).toEqual([]);
    expect(or.secrets(real, "src/a.ts")).toHaveLength(1);
  });

  it("commits allow a finding only in those commits (history scans); targetRules limit a global list", () => {
    const m = matcherFrom(`${RULE}
[[rules]]
id = "other-key"
regex = '''other_[a-z0-9]{12}'''
keywords = ["other_"]

[[allowlists]]
targetRules = ["corp-key"]
commits = ["9FCEB02D0AE598E95DC970B74767F19372D61AF8"]
`);
    const text = 'key = "corp_a1b2c3d4e5f6" other_a1b2c3d4e5f6';
    expect(m.secrets(text, "a.ts", "9fceb02d0ae598e95dc970b74767f19372d61af8")).toEqual([
      "other_a1b2c3d4e5f6",
    ]);
    expect(m.secrets(text, "a.ts", "1111111111111111111111111111111111111111")).toHaveLength(2);
    expect(m.secrets(text, "a.ts")).toHaveLength(2);
  });

  it("skips whole files only for lists that hold whatever the content", () => {
    const m = matcherFrom(`
[[allowlists]]
paths = ['''^vendor/''']

[[allowlists]]
condition = "AND"
paths = ['''^test/''']
stopwords = ["dummy"]
`);
    expect(m.cfg.allowlists.map(allowsWholeFiles)).toEqual([true, false]);
  });

  it("rejects a condition gitleaks does not know", () => {
    const r = scanConfigSchema.safeParse(parse(`[[allowlists]]\ncondition = "XOR"\npaths = ['''x''']`));
    expect(r.success).toBe(false);
  });
});
