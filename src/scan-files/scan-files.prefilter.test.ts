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

  it("finds the same occurrences in bytes as in the text they decode to", () => {
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = "abAB_-.:/c\n";
    for (let round = 0; round < 300; round++) {
      const kws = [
        ...new Set(
          Array.from({ length: 1 + rand(12) }, () =>
            Array.from({ length: 1 + rand(6) }, () => alphabet[rand(alphabet.length)])
              .join("")
              .toLowerCase(),
          ),
        ),
      ];
      // Short texts (where the two interleaved passes meet) and long ones (several blocks of a pass),
      // with Latin-1 bytes in between.
      const text = Array.from({ length: round % 10 === 0 ? 4000 + rand(9000) : rand(300) }, () =>
        rand(10) === 0 ? "\u00e9" : alphabet[rand(alphabet.length)],
      ).join("");
      const bytes = Buffer.from(text, "latin1");
      const from = rand(3) === 0 ? rand(text.length + 1) : 0;
      const to = rand(3) === 0 ? from + rand(text.length - from + 1) : text.length;
      const a = buildKeywordAutomaton(kws);
      const n = a.scanBytes(bytes, from, to);
      const got = Array.from({ length: n }, (_, i) => `${a.hits()[2 * i]}:${a.hits()[2 * i + 1]}`);
      expect([...got].sort(), `${kws} / ${text} [${from}, ${to})`).toEqual(hits(kws, text, from, to));
      // In order of end position, like scan().
      const ends = Array.from(
        { length: n },
        (_, i) => a.hits()[2 * i]! + a.keywords[a.hits()[2 * i + 1]!]!.length,
      );
      expect(ends).toEqual([...ends].sort((x, y) => x - y));
    }
  });

  it("finds ASCII keywords at their byte offsets in UTF-8, and declines non-ASCII keywords", () => {
    const bytes = Buffer.from("é token ü TOKEN", "utf8");
    const a = buildKeywordAutomaton(["token"]);
    expect(a.scanBytes(bytes, 0, bytes.length)).toBe(2);
    expect([a.hits()[0], a.hits()[2]]).toEqual([3, 12]);
    expect(buildKeywordAutomaton(["clé"]).scanBytes(bytes, 0, bytes.length)).toBe(-1);
  });

  it("converts byte offsets in UTF-8 to offsets in the decoded text, after a byte-order mark too", () => {
    const text = "é😀 token\nü TOKEN 😀😀 token";
    const a = buildKeywordAutomaton(["token"]);
    const n = a.scan(text, 0, text.length);
    const inText = Array.from(a.hits().subarray(0, 2 * n));
    for (const bom of [false, true]) {
      const bytes = Buffer.concat([Buffer.from(bom ? [0xef, 0xbb, 0xbf] : []), Buffer.from(text, "utf8")]);
      expect(a.scanBytes(bytes, 0, bytes.length)).toBe(n);
      a.utf8HitsToText(bytes, n, bom ? 1 : 0);
      expect(Array.from(a.hits().subarray(0, 2 * n))).toEqual(inText);
    }
  });

  it("rebuilds from its tables the same automaton", async () => {
    const { automatonFromTables } = await import("./scan-files.prefilter.ts");
    const a = buildKeywordAutomaton(["ghp_", "token", "he", "hers"]);
    const b = automatonFromTables(structuredClone(a.tables()));
    const text = "GHP_abc tokens hers she";
    const n = b.scan(text, 0, text.length);
    expect(n).toBe(a.scan(text, 0, text.length));
    expect(Array.from(b.hits().subarray(0, 2 * n))).toEqual(Array.from(a.hits().subarray(0, 2 * n)));
  });

  it("is empty without keywords", () => {
    expect(hits([], "anything")).toEqual([]);
  });
});
