/**
 * The scoring loop of `BinaryIndex`, as a 260-byte WebAssembly module: it is the whole cost of a vector
 * search's first step, and in WebAssembly it takes ~3 ms of CPU for 100k codes of 384 bits where the
 * same loop in JavaScript takes ~9 ms.
 *
 * For each code (`stride` bytes, `stride` a multiple of 4) it sums one f32 per byte from a table of
 * 256 entries per byte position: `score[i] = Σ_j table[j * 256 + code[i][j]]`. With the table built
 * from a query vector (`BinaryIndex`), that is the dot product of the query with the code's ±1 signs.
 * Four accumulators break the chain of dependent additions.
 *
 * The bytes below were assembled by hand from this text, which `wat2wasm` (wabt) reproduces;
 * `test/binary-index.test.ts` checks the results against the same sum in JavaScript.
 *
 * ```wat
 * (module
 *   (memory (export "memory") 1)
 *   (func (export "score") (param $codes i32) (param $n i32) (param $stride i32) (param $table i32)
 *                          (param $out i32)
 *     (local $i i32) (local $j i32) (local $p i32) (local $base i32)
 *     (local $s0 f32) (local $s1 f32) (local $s2 f32) (local $s3 f32)
 *     (local.set $p (local.get $codes))
 *     (block $done (loop $rows
 *       (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
 *       (local.set $s0 (f32.const 0)) (local.set $s1 (f32.const 0))
 *       (local.set $s2 (f32.const 0)) (local.set $s3 (f32.const 0))
 *       (local.set $j (i32.const 0))
 *       (local.set $base (local.get $table))
 *       (block $row_done (loop $row
 *         (br_if $row_done (i32.ge_u (local.get $j) (local.get $stride)))
 *         ;; byte k of this group of 4 indexes the table of position j + k, 1024 bytes further each
 *         (local.set $s0 (f32.add (local.get $s0) (f32.load offset=0 (i32.add (local.get $base)
 *           (i32.shl (i32.load8_u offset=0 (local.get $p)) (i32.const 2))))))
 *         (local.set $s1 (f32.add (local.get $s1) (f32.load offset=1024 (i32.add (local.get $base)
 *           (i32.shl (i32.load8_u offset=1 (local.get $p)) (i32.const 2))))))
 *         (local.set $s2 (f32.add (local.get $s2) (f32.load offset=2048 (i32.add (local.get $base)
 *           (i32.shl (i32.load8_u offset=2 (local.get $p)) (i32.const 2))))))
 *         (local.set $s3 (f32.add (local.get $s3) (f32.load offset=3072 (i32.add (local.get $base)
 *           (i32.shl (i32.load8_u offset=3 (local.get $p)) (i32.const 2))))))
 *         (local.set $p (i32.add (local.get $p) (i32.const 4)))
 *         (local.set $base (i32.add (local.get $base) (i32.const 4096)))
 *         (local.set $j (i32.add (local.get $j) (i32.const 4)))
 *         (br $row)))
 *       (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
 *         (f32.add (f32.add (local.get $s0) (local.get $s1)) (f32.add (local.get $s2) (local.get $s3))))
 *       (local.set $i (i32.add (local.get $i) (i32.const 1)))
 *       (br $rows)))))
 * ```
 */
const SIGN_KERNEL_WASM =
  'AGFzbQEAAAABCQFgBX9/f39/AAMCAQAFAwEAAQcSAgZtZW1vcnkCAAVzY29yZQAACtEBAc4BAgR/BH0gACEHAkADQCAFIAFPDQFD' +
  'AAAAACEJQwAAAAAhCkMAAAAAIQtDAAAAACEMQQAhBiADIQgCQANAIAYgAk8NASAJIAggBy0AAEECdGoqAgCSIQkgCiAIIActAAFB' +
  'AnRqKgKACJIhCiALIAggBy0AAkECdGoqAoAQkiELIAwgCCAHLQADQQJ0aioCgBiSIQwgB0EEaiEHIAhBgCBqIQggBkEEaiEGDAAL' +
  'CyAEIAVBAnRqIAkgCpIgCyAMkpI4AgAgBUEBaiEFDAALCws=';

/** One instance: its own linear memory (64 KiB pages, grown by the caller) and the loop over it. */
export interface SignKernel {
  memory: WebAssembly.Memory;
  /** Writes `n` f32 scores at byte offset `out`; `codes`, `table` and `out` are byte offsets. */
  score(codes: number, n: number, stride: number, table: number, out: number): void;
}

let compiled: WebAssembly.Module | undefined;

/**
 * A new kernel instance (the module is compiled once per process, on first use).
 *
 * @example
 * const { memory, score } = createSignKernel();
 * score(0, count, 48, tableOffset, outOffset); // 384-bit codes are 48 bytes
 */
export function createSignKernel(): SignKernel {
  compiled ??= new WebAssembly.Module(Buffer.from(SIGN_KERNEL_WASM, 'base64'));
  const exports = new WebAssembly.Instance(compiled).exports as unknown as SignKernel;
  return { memory: exports.memory, score: exports.score };
}
