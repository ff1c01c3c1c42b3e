import { describe, expect, it } from "vitest";
import { findEmails } from "./scan-files.sensitive.ts";

const EMAIL = /[A-Za-z0-9._%+-]{1,64}@([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24})\b/g;
const viaRegex = (text: string) => [...text.matchAll(EMAIL)].map((m) => `${m.index}:${m[0]}:${m[1]}`);
const viaScan = (text: string) => [...findEmails(text)].map((m) => `${m.index}:${m.value}:${m.domain}`);

describe("findEmails", () => {
  it("finds addresses in data and skips scoped package names and bare @", () => {
    const text = '{"author": "Ana Diaz <ana.diaz@acme-corp.io>", "dep": "@babel/core", "x": "a@b", "y": "@"}';
    expect(viaScan(text)).toEqual(["22:ana.diaz@acme-corp.io:acme-corp.io"]);
  });

  it("keeps at most 64 characters of local part, like the regular expression it replaces", () => {
    const text = `${"x".repeat(100)}@mail.example.org`;
    expect(viaScan(text)).toEqual(viaRegex(text));
    expect(viaScan(text)[0]).toMatch(/^36:/);
  });

  it("agrees with the regular expression on random texts", () => {
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = "ab.@-_%+co m\né";
    for (let round = 0; round < 2000; round++) {
      const text = Array.from({ length: rand(60) }, () => alphabet[rand(alphabet.length)]).join("");
      expect(viaScan(text), JSON.stringify(text)).toEqual(viaRegex(text));
    }
  });
});
