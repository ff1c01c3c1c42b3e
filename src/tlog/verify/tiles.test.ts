import { describe, expect, it } from "vitest";
import { generateNoteKey } from "../tlog.signer.ts";
import { hashLeaf } from "./hash.ts";
import { parseVerifierKey } from "./note.ts";
import {
  decodeBundle,
  encodeBundle,
  encodeTileIndex,
  entryBundlePath,
  parseTilePath,
  tileLevels,
  tilePath,
  tilesAtLevel,
} from "./tiles.ts";
import { formatTlogProof, parseTlogProof, verifyTlogProof } from "./tlog-proof.ts";

describe("C2SP tlog-tiles paths", () => {
  it("encodes indices as x-prefixed 3-digit groups", () => {
    expect(encodeTileIndex(0)).toBe("000");
    expect(encodeTileIndex(7)).toBe("007");
    expect(encodeTileIndex(1000)).toBe("x001/000");
    expect(encodeTileIndex(1234067)).toBe("x001/x234/067");
  });

  it("names full and partial tiles and entry bundles, and parses them back", () => {
    expect(tilePath(0, 1234067)).toBe("tile/0/x001/x234/067");
    expect(tilePath(2, 3, 17)).toBe("tile/2/003.p/17");
    expect(entryBundlePath(5, 112)).toBe("tile/entries/005.p/112");
    expect(parseTilePath("tile/0/x001/x234/067")).toEqual({
      kind: "tile",
      level: 0,
      index: 1234067,
      width: 256,
    });
    expect(parseTilePath("tile/entries/005.p/112")).toEqual({ kind: "entries", index: 5, width: 112 });
    expect(parseTilePath("tile/0/1234")).toBeUndefined();
    expect(parseTilePath("tile/0/001.p/256")).toBeUndefined();
  });

  it("lists the tiles of the spec's example tree of 70,000 entries", () => {
    expect(tilesAtLevel(70_000, 0)).toEqual({ full: 273, partialWidth: 112 });
    expect(tilesAtLevel(70_000, 1)).toEqual({ full: 1, partialWidth: 17 });
    expect(tilesAtLevel(70_000, 2)).toEqual({ full: 0, partialWidth: 1 });
    expect(tileLevels(70_000)).toBe(3);
    expect(tilesAtLevel(256, 1)).toEqual({ full: 0, partialWidth: 1 });
  });

  it("round-trips entry bundles and rejects truncated ones", () => {
    const entries = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300).fill(7)];
    const bytes = encodeBundle(entries);
    expect(bytes.length).toBe(6 + 303);
    expect(decodeBundle(bytes)).toEqual(entries);
    expect(decodeBundle(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
    expect(() => encodeBundle([new Uint8Array(70_000)])).toThrow(/65535/);
  });
});

describe("C2SP tlog-proof receipts", () => {
  it("formats and parses a receipt with extra data", () => {
    const h = hashLeaf(new Uint8Array([1]));
    const text = formatTlogProof({
      index: 3,
      proof: [h],
      checkpoint: "o\n1\nx\n\n— o AAAA\n",
      extra: new Uint8Array([104, 105]),
    });
    expect(text.startsWith("c2sp.org/tlog-proof@v1\nextra aGk=\nindex 3\n")).toBe(true);
    expect(parseTlogProof(text)).toEqual({
      index: 3,
      proof: [h],
      checkpoint: "o\n1\nx\n\n— o AAAA\n",
      extra: new Uint8Array([104, 105]),
    });
  });

  it("rejects receipts with a bad header, index or hash", () => {
    expect(() => parseTlogProof("wrong\nindex 0\n\ncp\n")).toThrow(/c2sp.org\/tlog-proof@v1/);
    expect(() => parseTlogProof("c2sp.org/tlog-proof@v1\nindex -5\n\ncp\n")).toThrow(/index/);
    expect(() => parseTlogProof("c2sp.org/tlog-proof@v1\nindex 0\n!!\n\ncp\n")).toThrow(/SHA-256/);
  });

  it("does not verify a receipt signed by another key", () => {
    const a = generateNoteKey("a.test/log");
    const b = generateNoteKey("a.test/log");
    const receipt = formatTlogProof({
      index: 0,
      proof: [],
      checkpoint: "a.test/log\n1\nAAAA\n\n— a.test/log AAAAAAAA\n",
    });
    expect(() => verifyTlogProof(receipt, new Uint8Array([1]), parseVerifierKey(b.verifierKey))).toThrow();
    expect(a.verifierKey).not.toBe(b.verifierKey);
  });
});
