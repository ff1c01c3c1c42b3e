import { describe, expect, it } from "vitest";
import { manualClock } from "../core/clock.ts";
import { createConnector } from "./connectors.registry.ts";

describe("createConnector", () => {
  const deps = { clock: manualClock() };

  it("refuses invalid settings with the offending fields", () => {
    expect(() => createConnector("webhook", { url: "ftp://x", secret: "short" }, deps)).toThrow(
      expect.objectContaining({
        code: "validation_failed",
        details: { fields: expect.arrayContaining([expect.objectContaining({ field: "settings/secret" })]) },
      }),
    );
  });

  it("refuses a PostgreSQL schema that is not a plain identifier", () => {
    expect(() =>
      createConnector(
        "postgres",
        { connection: { host: "127.0.0.1", database: "app", user: "warden" }, schemas: ['x"; DROP'] },
        deps,
      ),
    ).toThrow(expect.objectContaining({ code: "validation_failed" }));
  });

  it("builds a connector of the asked kind", async () => {
    const c = createConnector("github", { owner: "acme", repo: "web", token: "t" }, deps);
    expect(c.kind).toBe("github");
    await c.close();
  });

  it("needs the CA and ledger for SSH", () => {
    expect(() => createConnector("ssh", { principals: ["deploy"] }, deps)).toThrow(/certificate authority/);
  });
});
