/**
 * SHA-256 (FIPS 180-4) of many short messages at once, four at a time in the four 32-bit lanes of
 * WebAssembly SIMD, for verifying millions of log entries.
 *
 * Why hand-written: a full verification hashes about two messages per entry (a ~300-byte leaf and a
 * 65-byte node), and node:crypto's fixed cost per call (~1.6 µs on this project's machines) is larger than
 * the compression itself; no maintained package hashes a batch of arbitrary messages in one call
 * (@chainsafe/as-sha256 batches only 64-byte inputs, hash-wasm one message per call). Here one call
 * compresses every block of four messages, so the per-call cost is paid once per four messages, and the
 * four lanes run side by side. The module is assembled below from its instructions (no binary blob), and
 * tests compare it with node:crypto on every length from 0 to 300 bytes and beyond.
 *
 * Memory (one instance per thread): the four padded messages at LANES_AT (one LANE_BYTES area each), the
 * four digests at OUT_AT. Inside, lane i of every v128 belongs to message i: the words of a block are
 * loaded from the four messages and transposed (with the big-endian byte swap folded into the shuffles),
 * and a lane whose message has fewer blocks keeps its state (a mask from the block counts).
 */

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];
const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** The longest message: a tlog-tiles entry (65,535 bytes) with its one-byte RFC 6962 prefix. */
const MAX_MESSAGE = 1 + 0xffff;
const MAX_BLOCKS = Math.floor((MAX_MESSAGE + 8) / 64) + 1;
const LANE_BYTES = MAX_BLOCKS * 64;
const OUT_AT = 0;
const LANES_AT = 256;
const MEMORY_PAGES = Math.ceil((LANES_AT + 4 * LANE_BYTES) / 65536);

// ---------------------------------------------------------------------------------------- the assembler

const uleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i32add: [0x6a],
  i32geu: [0x4f],
  simd: (code: number) => [0xfd, ...uleb(code)],
};
const v128load = (offset: number) => [...op.simd(0x00), 4, ...uleb(offset)];
const v128store = (offset: number) => [...op.simd(0x0b), 4, ...uleb(offset)];
const v128splat = (v: number) => {
  const bytes: number[] = [];
  for (let i = 0; i < 4; i++) bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  return [...op.simd(0x0c), ...bytes];
};
const OR = op.simd(0x50);
const XOR = op.simd(0x51);
const BITSELECT = op.simd(0x52);
const SHL = op.simd(0xab);
const SHR_U = op.simd(0xad);
const ADD = op.simd(0xae);
const I32X4_SPLAT = op.simd(0x11);
const I32X4_GT_S = op.simd(0x3b);

/** i8x16.shuffle picking 32-bit lanes (0-3: first operand, 4-7: second), each byte-swapped if asked. */
const shuffle32 = (lanes32: number[], swap: boolean) => [
  ...op.simd(0x0d),
  ...lanes32.flatMap((l) =>
    swap ? [4 * l + 3, 4 * l + 2, 4 * l + 1, 4 * l] : [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3],
  ),
];

/**
 * hash4(most, blocks0, blocks1, blocks2, blocks3): SHA-256 of the four padded messages in memory, `most`
 * blocks long at most, message i `blocks_i` blocks long; the digests land at OUT_AT.
 */
function hash4Body(): number[] {
  // Params 0 most, 1..4 blocks per lane; i32 5 k, 6 p (byte offset of block k); v128 from 7 on.
  const MOST = 0;
  const KI = 5;
  const P = 6;
  let next = 7;
  const vlocal = () => next++;
  const S = Array.from({ length: 8 }, vlocal);
  const V = Array.from({ length: 8 }, vlocal);
  const schedLocals = Array.from({ length: 16 }, vlocal);
  const sched = (t: number) => schedLocals[t % 16]!;
  const T1 = vlocal();
  const T2 = vlocal();
  const NB = vlocal();
  const MASK = vlocal();
  const R = Array.from({ length: 4 }, vlocal);
  const T = Array.from({ length: 4 }, vlocal);
  const code: number[] = [];
  const emit = (...parts: number[][]) => {
    for (const p of parts) code.push(...p);
  };
  const rotr = (x: number, n: number) =>
    emit(op.get(x), op.i32(n), SHR_U, op.get(x), op.i32(32 - n), SHL, OR);
  const shr = (x: number, n: number) => emit(op.get(x), op.i32(n), SHR_U);
  const big = (x: number, a: number, b: number, c: number) => {
    rotr(x, a);
    rotr(x, b);
    emit(XOR);
    rotr(x, c);
    emit(XOR);
  };
  const small = (x: number, a: number, b: number, c: number) => {
    rotr(x, a);
    rotr(x, b);
    emit(XOR);
    shr(x, c);
    emit(XOR);
  };
  /** Transposes the 4 × 4 words in rows r[0..3] into columns out[0..3], byte-swapping if asked. */
  const transpose = (r: number[], out: number[], swap: boolean) => {
    emit(op.get(r[0]!), op.get(r[1]!), shuffle32([0, 4, 1, 5], swap), op.set(T[0]!));
    emit(op.get(r[0]!), op.get(r[1]!), shuffle32([2, 6, 3, 7], swap), op.set(T[1]!));
    emit(op.get(r[2]!), op.get(r[3]!), shuffle32([0, 4, 1, 5], swap), op.set(T[2]!));
    emit(op.get(r[2]!), op.get(r[3]!), shuffle32([2, 6, 3, 7], swap), op.set(T[3]!));
    emit(op.get(T[0]!), op.get(T[2]!), shuffle32([0, 1, 4, 5], false), op.set(out[0]!));
    emit(op.get(T[0]!), op.get(T[2]!), shuffle32([2, 3, 6, 7], false), op.set(out[1]!));
    emit(op.get(T[1]!), op.get(T[3]!), shuffle32([0, 1, 4, 5], false), op.set(out[2]!));
    emit(op.get(T[1]!), op.get(T[3]!), shuffle32([2, 3, 6, 7], false), op.set(out[3]!));
  };

  for (let r = 0; r < 8; r++) emit(v128splat(H0[r]!), op.set(S[r]!));
  emit(op.get(1), I32X4_SPLAT);
  for (let l = 1; l < 4; l++) emit(op.get(1 + l), [...op.simd(0x1c), l]); // i32x4.replace_lane
  emit(op.set(NB));
  emit([0x02, 0x40], [0x03, 0x40]); // block, loop
  emit(op.get(KI), op.get(MOST), op.i32geu, [0x0d, 1]); // k >= most: leave
  emit(op.get(NB), op.get(KI), I32X4_SPLAT, I32X4_GT_S, op.set(MASK));
  for (let q = 0; q < 4; q++) {
    for (let l = 0; l < 4; l++) emit(op.get(P), v128load(LANES_AT + l * LANE_BYTES + 16 * q), op.set(R[l]!));
    transpose(R, [sched(4 * q), sched(4 * q + 1), sched(4 * q + 2), sched(4 * q + 3)], true);
  }
  for (let r = 0; r < 8; r++) emit(op.get(S[r]!), op.set(V[r]!));
  for (let i = 0; i < 64; i++) {
    // Role r (0 = a … 7 = h) of round i lives in V[(r - i) mod 8]: no moves between rounds.
    const role = (r: number) => V[(((r - i) % 8) + 8) % 8]!;
    const [a, b, c, d, e, f, g, h] = [0, 1, 2, 3, 4, 5, 6, 7].map(role) as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    if (i >= 16) {
      // W[i] = σ1(W[i-2]) + W[i-7] + σ0(W[i-15]) + W[i-16]
      small(sched(i - 2), 17, 19, 10);
      emit(op.get(sched(i - 7)), ADD);
      small(sched(i - 15), 7, 18, 3);
      emit(ADD, op.get(sched(i - 16)), ADD, op.set(sched(i)));
    }
    // T1 = h + Σ1(e) + Ch(e, f, g) + K[i] + W[i]; Ch = bitselect(f, g, e)
    emit(op.get(h));
    big(e, 6, 11, 25);
    emit(ADD, op.get(f), op.get(g), op.get(e), BITSELECT, ADD, v128splat(K[i]!), ADD, op.get(sched(i)), ADD);
    emit(op.set(T1));
    // T2 = Σ0(a) + Maj(a, b, c); Maj = bitselect(c, a, a ^ b)
    big(a, 2, 13, 22);
    emit(op.get(c), op.get(a), op.get(a), op.get(b), XOR, BITSELECT, ADD, op.set(T2));
    emit(op.get(d), op.get(T1), ADD, op.set(d)); // becomes e
    emit(op.get(T1), op.get(T2), ADD, op.set(h)); // becomes a
  }
  // 64 rounds bring every role back to its local. Lanes past their message's last block keep their state.
  for (let r = 0; r < 8; r++) {
    emit(op.get(S[r]!), op.get(V[r]!), ADD, op.get(S[r]!), op.get(MASK), BITSELECT, op.set(S[r]!));
  }
  emit(op.get(KI), op.i32(1), op.i32add, op.set(KI));
  emit(op.get(P), op.i32(64), op.i32add, op.set(P));
  emit([0x0c, 0], [0x0b], [0x0b]); // br loop, end loop, end block
  // Digests: lane l's words, big-endian, at OUT_AT + 32 l.
  for (let half = 0; half < 2; half++) {
    transpose(S.slice(4 * half, 4 * half + 4), R, true);
    for (let l = 0; l < 4; l++) emit(op.i32(0), op.get(R[l]!), v128store(OUT_AT + 32 * l + 16 * half));
  }
  const locals = vec([
    [2, I32],
    [next - 7, V128],
  ]);
  const body = [...locals, ...code, 0x0b];
  return [...uleb(body.length), ...body];
}

function assemble(): Uint8Array<ArrayBuffer> {
  const name = (s: string) => vec([...Buffer.from(s)].map((b) => [b]));
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([])]])), // (i32 × 5) -> ()
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, ...uleb(MEMORY_PAGES)]])),
    ...section(
      7,
      vec([
        [...name("hash4"), 0x00, 0],
        [...name("memory"), 0x02, 0],
      ]),
    ),
    ...section(10, vec([hash4Body()])),
  ];
  return new Uint8Array(bytes);
}

// ------------------------------------------------------------------------------------------- the driver

interface Hash4 {
  hash4: (most: number, b0: number, b1: number, b2: number, b3: number) => void;
  memory: WebAssembly.Memory;
}
let instance: Hash4 | undefined;
let out8: Uint8Array;
const lanes: { bytes: Uint8Array; view: DataView }[] = [];
const blocks = [0, 0, 0, 0];

function init(): Hash4 {
  const exports = new WebAssembly.Instance(new WebAssembly.Module(assemble())).exports as unknown as Hash4;
  const buf = exports.memory.buffer;
  out8 = new Uint8Array(buf, OUT_AT, 128);
  for (let l = 0; l < 4; l++) {
    lanes.push({
      bytes: new Uint8Array(buf, LANES_AT + l * LANE_BYTES, LANE_BYTES),
      view: new DataView(buf, LANES_AT + l * LANE_BYTES, LANE_BYTES),
    });
  }
  instance = exports;
  return exports;
}

/**
 * SHA-256 of (prefix ‖ src[offsets[i] … offsets[i] + lengths[i])) for i < count, each digest written to
 * out[outAt + 32 i …]. `prefix` is one byte, or -1 for none. `out` may be `src` when no digest lands on
 * a message not yet hashed (digest i at or before message i's own bytes), as when folding a tree level
 * in place.
 */
export function sha256Many(
  src: Uint8Array,
  offsets: ArrayLike<number>,
  lengths: ArrayLike<number>,
  count: number,
  prefix: number,
  out: Uint8Array,
  outAt: number,
): void {
  const wasm = instance ?? init();
  const pre = prefix >= 0 ? 1 : 0;
  for (let g = 0; g < count; g += 4) {
    const used = Math.min(4, count - g);
    let most = 0;
    for (let l = 0; l < 4; l++) {
      if (l >= used) {
        blocks[l] = 0;
        continue;
      }
      const len = lengths[g + l]!;
      const total = pre + len;
      if (total > MAX_MESSAGE) throw new RangeError(`a message of ${total} bytes is over ${MAX_MESSAGE}`);
      const off = offsets[g + l]!;
      const n = Math.floor((total + 8) / 64) + 1;
      const { bytes, view } = lanes[l]!;
      if (pre) bytes[0] = prefix;
      bytes.set(src.subarray(off, off + len), pre);
      // FIPS 180-4 §5.1.1 padding: 0x80, zeros, the length in bits as a 64-bit big-endian number.
      bytes[total] = 0x80;
      bytes.fill(0, total + 1, n * 64 - 4);
      view.setUint32(n * 64 - 4, total * 8);
      blocks[l] = n;
      if (n > most) most = n;
    }
    wasm.hash4(most, blocks[0]!, blocks[1]!, blocks[2]!, blocks[3]!);
    if (used === 4 && outAt + 32 * g + 128 <= out.length) out.set(out8, outAt + 32 * g);
    else out.set(out8.subarray(0, 32 * used), outAt + 32 * g);
  }
}
