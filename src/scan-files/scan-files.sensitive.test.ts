import { describe, expect, it } from "vitest";
import { findEmails, looksLikeData, looksLikeDotenv } from "./scan-files.sensitive.ts";

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

describe("head analysers", () => {
  const env = "# settings\nDB_HOST=db.internal\r\nDB_PASSWORD=Zq8#vT2m!\nexport API_TOKEN=abc\n";

  it("take KEY=value files for environment files, whatever their name", () => {
    expect(looksLikeDotenv(env, "deploy/.env.production")).toBe(true);
    expect(looksLikeDotenv(env, "deploy/settings")).toBe(true);
    expect(looksLikeDotenv(env, "deploy/vars.sh")).toBe(true);
  });

  it("never take program source for an environment file (assignments there are code)", () => {
    expect(looksLikeDotenv(env, "src/config.js")).toBe(false);
    expect(looksLikeDotenv("exports.A = exports.B = void 0;\nvar privateKey = x;\n", "lib/index.cjs")).toBe(
      false,
    );
  });

  it("need 80% of the first meaningful lines to be assignments", () => {
    const four = "A=1\nB=2\nC=3\nD=4\n";
    expect(looksLikeDotenv(`${four}not an assignment\n`, "conf")).toBe(true); // 4 of 5
    expect(looksLikeDotenv(`${four}one\ntwo\n`, "conf")).toBe(false); // 4 of 6
  });

  it("recognise delimited data by a constant separator count, and source code not", () => {
    expect(looksLikeData("id;name;mail\n1;Ana;a@x.io\n2;Bo;b@x.io\n3;Cy;c@x.io\n", "export")).toBe(true);
    expect(looksLikeData("import a from 'a';\nconst b = [1, 2];\nf(a, b, c);\n\n", "src/x")).toBe(false);
    expect(looksLikeData("{}", "users.json")).toBe(true);
  });
});
