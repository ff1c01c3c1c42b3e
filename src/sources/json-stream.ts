import { AppError } from "../core/errors.ts";

/**
 * Splits a body of concatenated JSON objects or arrays (`{..}{..}`, `{..}\n{..}`: what Splunk HTTP
 * Event Collector clients send, and NDJSON) into parsed values. A small scanner (strings and escapes
 * aware) finds each top-level value's end; JSON.parse does the parsing. Hand-written because the
 * streaming JSON libraries parse token by token in JavaScript, far slower than JSON.parse per value.
 */
export function* splitJsonValues(text: string, maxValues = 100_000): Generator<unknown> {
  let i = 0;
  let count = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff) {
      i++;
      continue;
    }
    if (c !== 0x7b && c !== 0x5b)
      throw new AppError("validation_failed", `expected a JSON object or array at character ${i + 1}`);
    let depth = 0;
    let inString = false;
    let j = i;
    for (; j < n; j++) {
      const d = text.charCodeAt(j);
      if (inString) {
        if (d === 0x5c) j++;
        else if (d === 0x22) inString = false;
      } else if (d === 0x22) inString = true;
      else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) break;
      }
    }
    if (depth !== 0 || j >= n)
      throw new AppError("validation_failed", `a JSON value starting at character ${i + 1} is not closed`);
    let value: unknown;
    try {
      value = JSON.parse(text.slice(i, j + 1));
    } catch (err) {
      throw new AppError("validation_failed", `bad JSON at character ${i + 1}: ${(err as Error).message}`);
    }
    if (++count > maxValues)
      throw new AppError("payload_too_large", `more than ${maxValues} values in one body`);
    yield value;
    i = j + 1;
  }
}
