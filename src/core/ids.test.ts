import { describe, expect, it } from "vitest";
import { uuidV7 } from "./ids.ts";

describe("uuidV7", () => {
  it("puts the millisecond time first, with version 7 and the RFC 9562 variant", () => {
    const ms = Date.UTC(2026, 10, 22, 1, 2, 3, 456);
    const id = uuidV7(ms);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(ms);
  });

  it("orders ids of later milliseconds after earlier ones, and never repeats", () => {
    const ids = Array.from({ length: 1000 }, (_, i) => uuidV7(1_700_000_000_000 + i * 7));
    expect([...ids].sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 1000 }, () => uuidV7(1_700_000_000_000)));
    expect(same.size).toBe(1000);
  });

  it("clamps times outside the 48-bit range instead of producing a malformed id", () => {
    expect(uuidV7(-5).startsWith("00000000-0000-7")).toBe(true);
    expect(uuidV7(2 ** 50).startsWith("ffffffff-ffff-7")).toBe(true);
  });
});
