import { describe, expect, it } from "vitest";
import { defaultRequirements } from "../gate/index.ts";
import { createDetectionContext } from "./detection.context.ts";

const at = Date.parse("2026-11-02T10:00:00Z");
const hour = 3_600_000;

function context(opts: { grants?: boolean } = {}) {
  let loads = 0;
  const ctx = createDetectionContext({
    developers: async () => {
      loads++;
      return [
        { id: "d1", name: "Ana", timeZone: "Asia/Tokyo", workingHours: null, status: "active" as const },
        {
          id: "d2",
          name: "Bo",
          timeZone: "Europe/Lisbon",
          workingHours: { start: "09:00", end: "17:00", days: [1, 2, 3, 4, 5] },
          status: "active" as const,
        },
      ];
    },
    gate: async () => ({ requirements: defaultRequirements, facts: [] }),
    ...(opts.grants
      ? {
          access: {
            liveGrants: async () => [
              {
                id: "g1",
                developerId: "d1",
                resource: { kind: "github", name: "Acme/Widgets" },
                startsAt: new Date(at - hour),
                endsAt: new Date(at + hour),
              },
            ],
            managedResources: async () => [
              { kind: "github", name: "acme/widgets" },
              { kind: "ssh", name: "bastion" },
            ],
          },
        }
      : {}),
  });
  return { ctx, loads: () => loads };
}

describe("the rules' view of Warden", () => {
  it("judges grants only on resources the catalog manages, by family and name, within the grant's time", async () => {
    const { ctx } = context({ grants: true });
    await ctx.ensureFresh();
    const repo = { kind: "git_repository", name: "acme/widgets" };
    expect(ctx.hasLiveGrant!({ developerId: "d1", resource: repo, at })).toBe(true);
    expect(ctx.hasLiveGrant!({ developerId: "d1", resource: repo, at: at + 2 * hour })).toBe(false);
    expect(ctx.hasLiveGrant!({ developerId: "d2", resource: repo, at })).toBe(false);
    expect(ctx.hasLiveGrant!({ developerId: "d2", resource: { kind: "server", name: "bastion" }, at })).toBe(
      false,
    );
    // Not in the catalog: not Warden's to judge.
    expect(
      ctx.hasLiveGrant!({ developerId: "d2", resource: { kind: "git_repository", name: "acme/other" }, at }),
    ).toBe(true);
  });

  it("has no grant check without the access feature, and gives default hours to developers without", async () => {
    const { ctx } = context();
    ctx.setDefaultHours({ start: "08:00", end: "16:00", days: [1, 2, 3, 4, 5] });
    await ctx.ensureFresh();
    expect(ctx.hasLiveGrant).toBeUndefined();
    expect(ctx.developer("d1")?.workingHours).toEqual({
      start: "08:00",
      end: "16:00",
      days: [1, 2, 3, 4, 5],
    });
    expect(ctx.developer("d2")?.workingHours?.end).toBe("17:00");
  });

  it("reloads when a record that changes what it knows passes through the log, not for others", async () => {
    const { ctx, loads } = context();
    await ctx.ensureFresh();
    await ctx.ensureFresh();
    expect(loads()).toBe(1);
    const record = (action: string) =>
      ({ warden: { source: "warden" }, unmapped: { action } }) as unknown as Parameters<
        typeof ctx.noteEvents
      >[0][number];
    ctx.noteEvents([record("vendor.update")]);
    await ctx.ensureFresh();
    expect(loads()).toBe(1);
    ctx.noteEvents([record("agreement.terminate")]);
    await ctx.ensureFresh();
    expect(loads()).toBe(2);
  });
});
