import type { HintKind } from "./reviews.schemas.ts";

/**
 * Least-privilege rules, pure: given what is known about a grant's use, say whether it looks wider
 * than the job needs. One hint per grant, the strongest: unused (revoke) before "write, but only reads
 * seen" (narrow) before "admin level" (narrow).
 */
export interface Usage {
  /** The latest sign of use, from any source. */
  lastSeenAt: Date | null;
  /** Whether a source that tells reads from writes saw any use at all in the window. */
  classified: boolean;
  /** Whether such a source saw a write. */
  wrote: boolean;
  evidence: string[];
}

export interface HintVerdict {
  kind: HintKind;
  suggestion: "revoke" | "narrow";
  message: string;
}

const DAY = 86_400_000;
const day = (d: Date) => d.toISOString().slice(0, 10);

/** Actions whose words say something was changed ("git.push", "db.update", "file.upload"). */
const WRITE_WORDS = new Set([
  "push",
  "write",
  "insert",
  "update",
  "delete",
  "drop",
  "alter",
  "merge",
  "upload",
]);
export const isWriteAction = (action: string): boolean =>
  action
    .toLowerCase()
    .split(/[._:/-]+/)
    .some((w) => WRITE_WORDS.has(w));

export function judge(
  grant: { level: string; startsAt: Date },
  usage: Usage,
  now: Date,
  unusedDays: number,
): HintVerdict | null {
  const since = usage.lastSeenAt && usage.lastSeenAt > grant.startsAt ? usage.lastSeenAt : grant.startsAt;
  const idleDays = Math.floor((now.getTime() - since.getTime()) / DAY);
  if (idleDays >= unusedDays) {
    return {
      kind: "unused",
      suggestion: "revoke",
      message: usage.lastSeenAt
        ? `No sign of use for ${idleDays} days (last seen ${day(usage.lastSeenAt)})`
        : `No sign of use in the ${idleDays} days since it started (${day(grant.startsAt)})`,
    };
  }
  if ((grant.level === "write" || grant.level === "admin") && usage.classified && !usage.wrote) {
    return {
      kind: "write_unused",
      suggestion: "narrow",
      message: `Granted ${grant.level}, but only reads seen in the last ${unusedDays} days: read would do`,
    };
  }
  if (grant.level === "admin") {
    return {
      kind: "admin_level",
      suggestion: "narrow",
      message: "Admin is the widest level: check that the job needs more than write",
    };
  }
  return null;
}
