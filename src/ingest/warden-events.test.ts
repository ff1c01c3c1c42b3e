import { describe, expect, it } from "vitest";
import {
  accessChangeEvent,
  accountChangeEvent,
  apiActivityEvent,
  shareTransferEvent,
  signInEvent,
} from "./warden-events.ts";

const actor = { userId: "u_admin", name: "Ada", ip: "192.0.2.10" };
const at = Date.parse("2026-03-10T12:00:00Z");

describe("Warden's own events in OCSF", () => {
  it.each([
    [
      "API create",
      apiActivityEvent({
        at,
        actor,
        uid: "1",
        verb: "create",
        operation: "vendors.create",
        resource: { kind: "vendor", name: "v_1" },
      }),
      6003,
      1,
    ],
    [
      "share download",
      shareTransferEvent({
        at,
        actor: { ...actor, developerId: "dev_1" },
        uid: "2",
        direction: "download",
        shareId: "sh_1",
        fileName: "spec.pdf.age",
      }),
      6006,
      2,
    ],
    [
      "account disabled",
      accountChangeEvent({ at, actor, uid: "3", change: "disable", subject: { uid: "dev_1" } }),
      3001,
      5,
    ],
    [
      "grant",
      accessChangeEvent({
        at,
        actor,
        uid: "4",
        change: "grant",
        subject: { uid: "dev_1" },
        resource: { kind: "git_repository", name: "acme/app" },
        privileges: ["read"],
      }),
      3005,
      1,
    ],
    [
      "revoke",
      accessChangeEvent({
        at,
        actor,
        uid: "5",
        change: "revoke",
        subject: { uid: "dev_1" },
        resource: { kind: "git_repository", name: "acme/app" },
        privileges: ["read"],
      }),
      3005,
      2,
    ],
    ["failed sign-in", signInEvent({ at, actor, uid: "6", method: "password", success: false }), 3002, 1],
  ])("builds %s with consistent ids", (_n, e, cls, activity) => {
    expect(e.class_uid).toBe(cls);
    expect(e.activity_id).toBe(activity);
    expect(e.type_uid).toBe(cls * 100 + activity);
    expect(e.category_uid).toBe(Math.floor(cls / 1000));
    expect(e.metadata).toMatchObject({ product: { name: "Warden" }, uid: expect.any(String) });
    expect(e.actor?.user?.uid).toBe("u_admin");
    expect(e.src_endpoint?.ip).toBe("192.0.2.10");
    expect(e.warden.source).toBe("warden");
  });

  it("attributes grant events and share transfers to the developer", () => {
    expect(
      accessChangeEvent({
        at,
        actor,
        uid: "4",
        change: "grant",
        subject: { uid: "dev_1" },
        resource: { kind: "db", name: "prod" },
        privileges: ["read"],
      }).warden,
    ).toMatchObject({ developerId: "dev_1", resource: { kind: "db", name: "prod" } });
    expect(
      shareTransferEvent({
        at,
        actor: { ...actor, developerId: "dev_2" },
        uid: "2",
        direction: "upload",
        shareId: "sh_1",
        fileName: "a",
      }).warden.developerId,
    ).toBe("dev_2");
  });
});
