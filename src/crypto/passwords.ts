import { randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const scrypt = promisify(scryptCb) as (
  pw: string,
  salt: Buffer,
  len: number,
  opts: object,
) => Promise<Buffer>;

/**
 * Passwords hashed with scrypt (node:crypto). The stored string carries its own parameters
 * (`$scrypt$ln=17,r=8,p=1$<salt>$<hash>`), so raising the cost later keeps old hashes verifiable.
 */
export interface ScryptParams {
  /** log2 of N, the CPU/memory cost */
  ln: number;
  r: number;
  p: number;
}
const DEFAULT: ScryptParams = { ln: 17, r: 8, p: 1 };
const KEYLEN = 32;

export async function hashPassword(password: string, params: ScryptParams = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const N = 2 ** params.ln;
  const hash = await scrypt(password, salt, KEYLEN, {
    N,
    r: params.r,
    p: params.p,
    maxmem: 256 * N * params.r,
  });
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const [, ln, r, p, salt, hash] = m as unknown as [string, string, string, string, string, string];
  const N = 2 ** Number(ln);
  const expected = Buffer.from(hash, "base64");
  const got = await scrypt(password, Buffer.from(salt, "base64"), expected.length, {
    N,
    r: Number(r),
    p: Number(p),
    maxmem: 256 * N * Number(r),
  });
  return timingSafeEqual(got, expected);
}

/** Used when an account does not exist, so a miss costs the same time as a wrong password. */
export const DUMMY_PASSWORD_HASH =
  "$scrypt$ln=17,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
