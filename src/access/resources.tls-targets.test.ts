import { describe, expect, it } from "vitest";
import { tlsTargetOfResource } from "./resources.tls-targets.ts";

describe("the TLS scan target of a catalog resource", () => {
  it.each([
    ["postgres", { connection: { host: "db.internal", port: 6432 } }, "postgres://db.internal:6432"],
    ["postgres", { connection: { host: "db.internal" } }, "postgres://db.internal:5432"],
    ["postgres", { connection: { host: "fd00::5", port: 5432 } }, "postgres://[fd00::5]:5432"],
    ["postgres", { connection: { host: "/var/run/postgresql" } }, undefined],
    ["generic", { url: "http://hooks.internal/warden" }, "http://hooks.internal/warden"],
    ["github", { apiUrl: "https://api.github.com" }, undefined],
    ["github", { apiUrl: "https://ghe.corp.example/api/v3" }, "https://ghe.corp.example/api/v3"],
    ["gitlab", { apiUrl: "https://gitlab.com/api/v4" }, undefined],
    ["gitlab", { apiUrl: "https://git.corp.example/api/v4" }, "https://git.corp.example/api/v4"],
    ["ssh", { principals: ["deploy"] }, undefined],
  ] as const)("%s %j → %s", (kind, settings, target) => {
    expect(tlsTargetOfResource(kind, settings)).toBe(target);
  });
});
