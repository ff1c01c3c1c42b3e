/**
 * RFC 8785 (JCS) canonical JSON, fast for the common case. Ingestion canonicalises every event, and the
 * libraries (json-canonicalize, canonicalize) build the text piece by piece in JavaScript: ~20 µs per
 * 750-byte event on this project's machines, the largest cost of a durable append. JCS is exactly ES
 * JSON.stringify with object keys sorted by UTF-16 code units, so when every object's keys are sorted
 * (or once a sorted copy is made) the native JSON.stringify gives the canonical text. Anything this
 * shortcut does not cover (integer-like keys, which JavaScript orders numerically; toJSON; non-plain
 * objects; non-finite numbers) goes to json-canonicalize, and tests compare the two.
 */
import { canonicalize } from "json-canonicalize";

const Fallback = Symbol("fallback");
const INDEX_LIKE = /^(?:0|[1-9][0-9]*)$/;

function checkScalar(v: unknown): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) throw Fallback;
  if (typeof v === "function" || typeof v === "symbol" || typeof v === "bigint") throw Fallback;
  return v;
}

/** `v` itself when its keys are in canonical order, else a copy that is; throws Fallback when unsure. */
function ordered(v: unknown): unknown {
  if (v === null) return v;
  switch (typeof v) {
    case "string":
    case "boolean":
    case "undefined":
      return v;
    case "number":
      if (!Number.isFinite(v)) throw Fallback;
      return v;
    case "object": {
      if (Array.isArray(v)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < v.length; i++) {
          const x = ordered(v[i]);
          if (x !== v[i]) {
            copy ??= v.slice();
            copy[i] = x;
          }
        }
        return copy ?? v;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw Fallback;
      const o = v as Record<string, unknown>;
      if ("toJSON" in o) throw Fallback;
      const keys = Object.keys(o);
      let sorted = true;
      let values: unknown[] | undefined;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const c = k.charCodeAt(0);
        if (c >= 48 && c <= 57 && INDEX_LIKE.test(k)) throw Fallback;
        if (i > 0 && keys[i - 1]! > k) sorted = false;
        const x = o[k];
        const y = typeof x === "object" && x !== null ? ordered(x) : checkScalar(x);
        if (y !== x && !values) values = keys.slice(0, i).map((key) => o[key]);
        if (values) values[i] = y;
      }
      const changed = values !== undefined;
      if (sorted && !changed) return v;
      const order = keys.map((_, i) => i);
      if (!sorted) order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
      const copy: Record<string, unknown> = {};
      for (const i of order) copy[keys[i]!] = values ? values[i] : o[keys[i]!];
      return copy;
    }
    default:
      throw Fallback;
  }
}

export function canonicalJson(v: unknown): string {
  let prepared: unknown;
  try {
    prepared = ordered(v);
  } catch (e) {
    if (e === Fallback) return canonicalize(v);
    throw e;
  }
  const text = JSON.stringify(prepared);
  return text === undefined ? canonicalize(v) : text;
}
