/**
 * The loops of `BinaryIndex`, as a 755-byte WebAssembly module using 128-bit SIMD: scoring every code
 * against a query, then the histogram and the pass that pick the best scores.
 *
 * `score` scores blocks of 16 codes at once ("fast scan", as in product-quantisation search). A block
 * holds byte `j` of its 16 codes in the 16 lanes of vector `j` (`stride` vectors per block). Each nibble
 * of a code byte selects one of the 16 u8 entries of that nibble's table (`i8x16.swizzle`: 16 lookups in
 * one instruction); byte `j` has two tables of 16 bytes at `tables + 32 * j` (low nibble, high nibble):
 * `score[c] = Σ_j tables[32j + (code[c][j] & 15)] + tables[32j + 16 + (code[c][j] >> 4)]`, a u16 per code.
 * Entries must be at most 127, so that the two entries of a byte add up within 8 bits; the sums are
 * widened to 16 bits without unpacking: `$all` adds the 8-bit pairs as 16-bit lanes (an even code's sum
 * plus 256 times the odd code's sum, wrapping) and `$odd` the odd codes' sums alone, so that
 * `$all - 256 * $odd` is the even codes' sums. The previous kernel (one f32 table lookup and add per code
 * byte, one code at a time) took ~1.7-3.6 ms for 100k codes of 384 bits; this one ~0.5-0.9 ms on the
 * same (noisy) machine.
 *
 * `histogram` counts the scores per value and `collect` lists the indices of the scores at or above a
 * cut, 8 scores per comparison: in JavaScript these two passes took ~0.5 ms at 100k codes.
 *
 * With the tables built from a quantised query (`BinaryIndex`), scores rank codes like the dot product of
 * the query with the code's bits. `test/sign-kernel.test.ts` checks the results against the same
 * computations in JavaScript. The bytes below are this text assembled by `wat2wasm` (wabt 1.0.39).
 *
 * ```wat
 * (module
 *   (memory (export "memory") 1)
 *   (func (export "score") (param $codes i32) (param $blocks i32) (param $stride i32) (param $tables i32)
 *                          (param $out i32)
 *     (local $end i32) (local $t i32) (local $tablesEnd i32)
 *     (local $v v128) (local $r v128) (local $all v128) (local $odd v128) (local $even v128) (local $low v128)
 *     (local.set $low (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
 *     (local.set $end (i32.add (local.get $out) (i32.shl (local.get $blocks) (i32.const 5))))
 *     (local.set $tablesEnd (i32.add (local.get $tables) (i32.shl (local.get $stride) (i32.const 5))))
 *     (block $done (loop $block
 *       (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
 *       (local.set $all (v128.const i64x2 0 0))
 *       (local.set $odd (v128.const i64x2 0 0))
 *       (local.set $t (local.get $tables))
 *       (loop $bytes
 *         ;; byte j of the 16 codes: each nibble selects its entry in one of the byte's two tables; the
 *         ;; entries are ≤ 127, so the two add up within 8 bits
 *         (local.set $v (v128.load offset=0 (local.get $codes)))
 *         (local.set $r (i8x16.add
 *           (i8x16.swizzle (v128.load offset=0 (local.get $t)) (v128.and (local.get $v) (local.get $low)))
 *           (i8x16.swizzle (v128.load offset=16 (local.get $t))
 *             (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low)))))
 *         ;; 16-bit lanes: $all gets even + 256 * odd codes' sums (wrapping), $odd the odd codes' sums
 *         (local.set $all (i16x8.add (local.get $all) (local.get $r)))
 *         (local.set $odd (i16x8.add (local.get $odd) (i16x8.shr_u (local.get $r) (i32.const 8))))
 *         (local.set $v (v128.load offset=16 (local.get $codes)))
 *         (local.set $r (i8x16.add
 *           (i8x16.swizzle (v128.load offset=32 (local.get $t)) (v128.and (local.get $v) (local.get $low)))
 *           (i8x16.swizzle (v128.load offset=48 (local.get $t))
 *             (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low)))))
 *         (local.set $all (i16x8.add (local.get $all) (local.get $r)))
 *         (local.set $odd (i16x8.add (local.get $odd) (i16x8.shr_u (local.get $r) (i32.const 8))))
 *         (local.set $v (v128.load offset=32 (local.get $codes)))
 *         (local.set $r (i8x16.add
 *           (i8x16.swizzle (v128.load offset=64 (local.get $t)) (v128.and (local.get $v) (local.get $low)))
 *           (i8x16.swizzle (v128.load offset=80 (local.get $t))
 *             (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low)))))
 *         (local.set $all (i16x8.add (local.get $all) (local.get $r)))
 *         (local.set $odd (i16x8.add (local.get $odd) (i16x8.shr_u (local.get $r) (i32.const 8))))
 *         (local.set $v (v128.load offset=48 (local.get $codes)))
 *         (local.set $r (i8x16.add
 *           (i8x16.swizzle (v128.load offset=96 (local.get $t)) (v128.and (local.get $v) (local.get $low)))
 *           (i8x16.swizzle (v128.load offset=112 (local.get $t))
 *             (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $low)))))
 *         (local.set $all (i16x8.add (local.get $all) (local.get $r)))
 *         (local.set $odd (i16x8.add (local.get $odd) (i16x8.shr_u (local.get $r) (i32.const 8))))
 *         (local.set $codes (i32.add (local.get $codes) (i32.const 64)))
 *         (local.set $t (i32.add (local.get $t) (i32.const 128)))
 *         (br_if $bytes (i32.lt_u (local.get $t) (local.get $tablesEnd))))
 *       (local.set $even (i16x8.sub (local.get $all) (i16x8.shl (local.get $odd) (i32.const 8))))
 *       ;; back to code order: 16 u16 scores
 *       (v128.store (local.get $out)
 *         (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $even) (local.get $odd)))
 *       (v128.store offset=16 (local.get $out)
 *         (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $even) (local.get $odd)))
 *       (local.set $out (i32.add (local.get $out) (i32.const 32)))
 *       (br $block))))
 *   (func (export "histogram") (param $scores i32) (param $n i32) (param $bins i32)
 *     (local $end i32) (local $at i32)
 *     (local.set $end (i32.add (local.get $scores) (i32.shl (local.get $n) (i32.const 1))))
 *     (block $done (loop $score
 *       (br_if $done (i32.ge_u (local.get $scores) (local.get $end)))
 *       (local.set $at (i32.add (local.get $bins) (i32.shl (i32.load16_u (local.get $scores)) (i32.const 2))))
 *       (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
 *       (local.set $scores (i32.add (local.get $scores) (i32.const 2)))
 *       (br $score))))
 *   (func (export "collect") (param $scores i32) (param $n i32) (param $cut i32) (param $out i32) (result i32)
 *     (local $i i32) (local $mask i32) (local $next i32) (local $cuts v128)
 *     (local.set $cuts (i16x8.splat (local.get $cut)))
 *     (local.set $next (local.get $out))
 *     (block $done (loop $eight
 *       (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
 *       ;; one bit per score ≥ $cut among scores i .. i + 7, then their indices, below n
 *       (local.set $mask (i16x8.bitmask (i16x8.ge_u (v128.load (local.get $scores)) (local.get $cuts))))
 *       (block $lanes_done (loop $lanes
 *         (br_if $lanes_done (i32.eqz (local.get $mask)))
 *         (i32.store (local.get $next) (i32.add (local.get $i) (i32.ctz (local.get $mask))))
 *         (local.set $next (i32.add (local.get $next)
 *           (i32.shl (i32.lt_u (i32.add (local.get $i) (i32.ctz (local.get $mask))) (local.get $n)) (i32.const 2))))
 *         (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
 *         (br $lanes)))
 *       (local.set $scores (i32.add (local.get $scores) (i32.const 16)))
 *       (local.set $i (i32.add (local.get $i) (i32.const 8)))
 *       (br $eight)))
 *     (i32.shr_u (i32.sub (local.get $next) (local.get $out)) (i32.const 2))))
 * ```
 */
const SIGN_KERNEL_WASM =
  'AGFzbQEAAAABFwNgBX9/f39/AGADf39/AGAEf39/fwF/AwQDAAECBQMBAAEHKAQGbWVtb3J5AgAFc2NvcmUAAAloaXN0b2dyYW0A' +
  'AQdjb2xsZWN0AAIKmgUD4AMCA38Ge/0MDw8PDw8PDw8PDw8PDw8PDyENIAQgAUEFdGohBSADIAJBBXRqIQcCQANAIAQgBU8NAf0M' +
  'AAAAAAAAAAAAAAAAAAAAACEK/QwAAAAAAAAAAAAAAAAAAAAAIQsgAyEGA0AgAP0ABAAhCCAG/QAEACAIIA39Tv0OIAb9AAQQIAhB' +
  'BP2NASAN/U79Dv1uIQkgCiAJ/Y4BIQogCyAJQQj9jQH9jgEhCyAA/QAEECEIIAb9AAQgIAggDf1O/Q4gBv0ABDAgCEEE/Y0BIA39' +
  'Tv0O/W4hCSAKIAn9jgEhCiALIAlBCP2NAf2OASELIAD9AAQgIQggBv0ABEAgCCAN/U79DiAG/QAEUCAIQQT9jQEgDf1O/Q79biEJ' +
  'IAogCf2OASEKIAsgCUEI/Y0B/Y4BIQsgAP0ABDAhCCAG/QAEYCAIIA39Tv0OIAb9AARwIAhBBP2NASAN/U79Dv1uIQkgCiAJ/Y4B' +
  'IQogCyAJQQj9jQH9jgEhCyAAQcAAaiEAIAZBgAFqIQYgBiAHSQ0ACyAKIAtBCP2LAf2RASEMIAQgDCAL/Q0AARARAgMSEwQFFBUG' +
  'BxYX/QsEACAEIAwgC/0NCAkYGQoLGhsMDRwdDg8eH/0LBBAgBEEgaiEEDAALCws+AQJ/IAAgAUEBdGohAwJAA0AgACADTw0BIAIg' +
  'AC8BAEECdGohBCAEIAQoAgBBAWo2AgAgAEECaiEADAALCwt3AgN/AXsgAv0QIQcgAyEGAkADQCAEIAFPDQEgAP0ABAAgB/02/YQB' +
  'IQUCQANAIAVFDQEgBiAEIAVoajYCACAGIAQgBWhqIAFJQQJ0aiEGIAUgBUEBa3EhBQwACwsgAEEQaiEAIARBCGohBAwACwsgBiAD' +
  'a0ECdgs=';

/** One instance: its own linear memory (64 KiB pages, grown by the caller) and the loops over it. */
export interface SignKernel {
  memory: WebAssembly.Memory;
  /**
   * Writes `16 * blocks` u16 scores at `out`, one per code of the blocks at `codes` (each block
   * `16 * stride` bytes, `stride` a positive multiple of 4); tables as described above. Byte offsets,
   * multiples of 16.
   */
  score(codes: number, blocks: number, stride: number, tables: number, out: number): void;
  /** Adds 1 to the u32 at `bins + 4 * score` for each of the `n` u16 scores at `scores`. */
  histogram(scores: number, n: number, bins: number): void;
  /**
   * Writes at `out` the indices (u32, ascending) of the first `n` u16 scores at `scores` that are at least
   * `cut`, returning their number. Reads scores up to a multiple of 8 and may write one index past
   * those returned.
   */
  collect(scores: number, n: number, cut: number, out: number): number;
}

let compiled: WebAssembly.Module | undefined;

/**
 * A new kernel instance (the module is compiled once per process, on first use).
 *
 * @example
 * const { memory, score } = createSignKernel();
 * score(0, Math.ceil(count / 16), 48, tablesOffset, outOffset); // 384-bit codes are 48 bytes
 */
export function createSignKernel(): SignKernel {
  compiled ??= new WebAssembly.Module(Buffer.from(SIGN_KERNEL_WASM, 'base64'));
  const { memory, score, histogram, collect } = new WebAssembly.Instance(compiled)
    .exports as unknown as SignKernel;
  return { memory, score, histogram, collect };
}
