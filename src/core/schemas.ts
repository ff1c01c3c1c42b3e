import { z } from "zod";

/** Small shared schema pieces: bounded strings, ISO dates, country codes. */
export const text = (max = 200) => z.string().trim().min(1).max(max);
export const optionalText = (max = 2000) => z.string().trim().max(max).default("");
export const isoDate = z.iso.date({ error: "a date as YYYY-MM-DD" });
export const country = z
  .string()
  .regex(/^[A-Z]{2}$/, { error: "an ISO 3166-1 alpha-2 country code such as DE" });
export const email = z
  .email({ error: "an email address" })
  .max(254)
  .transform((v) => v.toLowerCase());

export const isValidTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return tz.includes("/") || tz === "UTC";
  } catch {
    return false;
  }
};
export const timeZone = z
  .string()
  .max(64)
  .refine(isValidTimeZone, { error: "an IANA time zone such as Europe/Berlin" });

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Whether a string is a record id (a UUID), for inputs checked outside a Zod schema (CLI arguments). */
export const isUuid = (v: string): boolean => UUID_RE.test(v);

/** 'YYYY-MM-DD' of an instant in UTC, the day granularity of every date field. */
export const dayOf = (d: Date): string => d.toISOString().slice(0, 10);
