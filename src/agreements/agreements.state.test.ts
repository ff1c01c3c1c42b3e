import { describe, expect, it } from "vitest";
import { type AgreementDates, agreementEndsOn, agreementStateOn } from "./agreements.state.ts";

const nda: AgreementDates = {
  status: "active",
  signedOn: "2026-01-10",
  effectiveOn: "2026-01-15",
  expiresOn: "2027-01-15",
  terminatedOn: null,
};

describe("agreementStateOn", () => {
  it.each([
    ["a draft, whatever its dates", { status: "draft" }, "2026-06-01", "draft", false],
    ["before it takes effect", {}, "2026-01-14", "active", false],
    ["on its effective day", {}, "2026-01-15", "active", true],
    ["the day before expiry", {}, "2027-01-14", "active", true],
    ["on the expiry day (exclusive)", {}, "2027-01-15", "expired", false],
    ["with no expiry, years later", { expiresOn: null }, "2040-01-01", "active", true],
    [
      "effective as of a past day but not yet signed then",
      { signedOn: "2026-02-01" },
      "2026-01-20",
      "active",
      false,
    ],
    ["once signed after its effective day", { signedOn: "2026-02-01" }, "2026-02-01", "active", true],
    [
      "terminated with a date still ahead",
      { status: "terminated", terminatedOn: "2026-09-01" },
      "2026-08-31",
      "active",
      true,
    ],
    [
      "on its termination day",
      { status: "terminated", terminatedOn: "2026-09-01" },
      "2026-09-01",
      "terminated",
      false,
    ],
    [
      "terminated and past its expiry",
      { status: "terminated", terminatedOn: "2026-09-01" },
      "2027-06-01",
      "terminated",
      false,
    ],
  ] as const)("treats an agreement %s", (_name, change, day, state, inEffect) => {
    expect(agreementStateOn({ ...nda, ...change }, day)).toEqual({ state, inEffect });
  });
});

describe("agreementEndsOn", () => {
  it("is the earlier of expiry and termination", () => {
    expect(agreementEndsOn(nda)).toBe("2027-01-15");
    expect(agreementEndsOn({ ...nda, terminatedOn: "2026-09-01" })).toBe("2026-09-01");
    expect(agreementEndsOn({ expiresOn: null, terminatedOn: null })).toBeNull();
  });
});
