import { describe, expect, it } from "vitest";
import { buildKeywordAutomaton } from "./scan-files.prefilter.ts";

/** Every (start, keyword) occurrence, found the slow obvious way. */
function bruteForce(keywords: readonly string[], text: string): string[] {
  const lower = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const out: string[] = [];
  keywords.forEach((k, ki) => {
    for (let i = lower.indexOf(k); i >= 0; i = lower.indexOf(k, i + 1)) out.push(`${i}:${ki}`);
  });
  return out.sort();
}

function hits(keywords: string[], text: string, from = 0, to = text.length): string[] {
  const a = buildKeywordAutomaton(keywords);
  const out: string[] = [];
  const n = a.scan(text, from, to);
  const h = a.hits();
  for (let i = 0; i < n; i++) out.push(`${h[2 * i]}:${h[2 * i + 1]}`);
  return out.sort();
}

describe("keyword automaton", () => {
  it("reports overlapping keywords, keywords inside others and repeated runs", () => {
    const kws = ["he", "she", "hers", "his", "aaa"];
    expect(hits(kws, "ushers aaaaa")).toEqual(
      ["1:1", "2:0", "2:2", "7:4", "8:4", "9:4"].sort(), // she, he, hers, aaa ×3
    );
  });

  it("ignores ASCII case in the text and in the keywords", () => {
    expect(hits(["ghp_", "Password"], "GHP_x PASSWORD= pAsSwOrD")).toEqual(["0:0", "6:1", "16:1"].sort());
  });

  it("does not fold a non-ASCII character onto an ASCII keyword (Kelvin sign is not k)", () => {
    expect(hits(["key"], "\u212Aey key")).toEqual(["4:0"]);
  });

  it("matches non-ASCII keywords in either case", () => {
    expect(hits(["clé"], "CLÉ clé")).toEqual(["0:0", "4:0"]);
  });

  it("reports only occurrences inside [from, to)", () => {
    expect(hits(["token"], "token token token", 3, 11)).toEqual(["6:0"]);
  });

  it("agrees with a brute-force search on random keywords and texts", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = "abAB_-.:/c";
    const word = (min: number, max: number) =>
      Array.from({ length: min + rand(max - min + 1) }, () => alphabet[rand(alphabet.length)]).join("");
    for (let round = 0; round < 200; round++) {
      const kws = [...new Set(Array.from({ length: 1 + rand(12) }, () => word(1, 5).toLowerCase()))];
      const text = word(0, 200);
      expect(hits(kws, text), `${kws} / ${text}`).toEqual(bruteForce(kws, text));
    }
  });

  it("reports more hits than its initial buffer holds", () => {
    expect(hits(["a"], "a".repeat(10_000))).toHaveLength(10_000);
  });

  it("is empty without keywords", () => {
    expect(hits([], "anything")).toEqual([]);
  });
});
