/**
 * An in-memory binary-quantised index of one knowledge base's vectors: one sign bit per dimension,
 * compared by Hamming distance. It only proposes candidates; the store re-scores them with exact cosine
 * distances from the stored float vectors, so results are exact whenever the knowledge base has no more
 * chunks than candidates, and near-exact above that.
 *
 * Why not sqlite-vec's vec0 KNN: in sqlite-vec 0.1.9 a KNN query costs O(rows * k) for its top-k
 * selection on top of O(rows * dims) for the distances, and a point read by rowid costs ~0.3 ms. At
 * 100k chunks of 384 dimensions (k = 20, same busy machine) a float[384] cosine KNN took ~95 ms, int8
 * ~135 ms, bit[384] with k = 200 plus re-scoring ~60 ms, and this scan plus re-scoring of 400 candidates
 * ~10 ms. The scan is O(rows) whatever the candidate count.
 *
 * The codes are persisted (`chunk_codes`) so that loading needs no float vectors; ids are kept in
 * ascending order, which lets a refresh append chunks added since (chunk ids only grow).
 */

/**
 * The persisted code of a vector: bit `i` (byte `i >> 3`, bit `i & 7`) is set when component `i` is
 * positive; the last byte is zero-padded. The same layout as sqlite-vec's `vec_quantize_binary`.
 *
 * @example
 * binaryCode(new Float32Array([0.5, -1, 2, 0, 0, 0, 0, 0, 3])) // Uint8Array [0b101, 0b1]
 */
export function binaryCode(vector: Float32Array): Uint8Array {
  const code = new Uint8Array(Math.ceil(vector.length / 8));
  for (let i = 0; i < vector.length; i++) if (vector[i]! > 0) code[i >> 3]! |= 1 << (i & 7);
  return code;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
}

/**
 * Sign-bit codes of one knowledge base in two growable arrays, ids ascending.
 *
 * @example
 * const index = new BinaryIndex(384);
 * index.append(7, binaryCode(vector));
 * index.nearest(binaryCode(query), 100); // [7]
 */
export class BinaryIndex {
  /** 32-bit words per code. */
  readonly words: number;
  /** The knowledge base revision the contents reflect; maintained by the store. */
  revision = -1;
  #ids = new Float64Array(1024);
  #codes: Uint32Array;
  #size = 0;

  constructor(dimensions: number) {
    this.words = Math.ceil(dimensions / 32);
    this.#codes = new Uint32Array(1024 * this.words);
  }

  /** Number of codes held (including ones whose chunks were deleted since the last rebuild). */
  get size(): number {
    return this.#size;
  }

  /** The largest id held, 0 when empty. */
  get maxId(): number {
    return this.#size === 0 ? 0 : this.#ids[this.#size - 1]!;
  }

  /**
   * Adds codes (persisted form, `binaryCode`) packed back to back in `codes`, for ids in ascending order
   * and above `maxId`.
   */
  append(ids: ArrayLike<number>, codes: Uint8Array): void {
    const bytesPerCode = codes.length / Math.max(ids.length, 1);
    if (ids.length > 0 && (ids[0]! <= this.maxId || bytesPerCode > this.words * 4)) {
      throw new Error('BinaryIndex.append: ids must ascend past maxId and codes fit the dimensions');
    }
    this.#reserve(this.#size + ids.length);
    const bytes = new Uint8Array(this.#codes.buffer);
    for (let i = 0; i < ids.length; i++) {
      const at = this.#size + i;
      this.#ids[at] = ids[i]!;
      bytes.set(codes.subarray(i * bytesPerCode, (i + 1) * bytesPerCode), at * this.words * 4);
    }
    this.#size += ids.length;
  }

  #reserve(count: number): void {
    if (count <= this.#ids.length) return;
    let capacity = this.#ids.length;
    while (capacity < count) capacity *= 2;
    const ids = new Float64Array(capacity);
    ids.set(this.#ids.subarray(0, this.#size));
    const codes = new Uint32Array(capacity * this.words);
    codes.set(this.#codes.subarray(0, this.#size * this.words));
    this.#ids = ids;
    this.#codes = codes;
  }

  /**
   * The ids of the `count` codes nearest to `query` by Hamming distance (all ids if there are fewer),
   * in no particular order. Ties at the cut-off are broken by position.
   */
  nearest(query: Uint8Array, count: number): number[] {
    const size = this.#size;
    if (count >= size) return Array.from(this.#ids.subarray(0, size));
    const words = this.words;
    const q = new Uint32Array(words);
    new Uint8Array(q.buffer).set(query);
    const codes = this.#codes;
    const distances = new Uint16Array(size);
    const histogram = new Uint32Array(words * 32 + 1);
    for (let i = 0, offset = 0; i < size; i++, offset += words) {
      let d = 0;
      for (let w = 0; w < words; w++) d += popcount32(codes[offset + w]! ^ q[w]!);
      distances[i] = d;
      histogram[d]!++;
    }
    // Counting selection: the smallest distance `cut` such that at least `count` codes are within it.
    let cut = 0;
    for (let below = 0; below + histogram[cut]! < count; cut++) below += histogram[cut]!;
    const result: number[] = [];
    for (let i = 0; i < size; i++) if (distances[i]! < cut) result.push(this.#ids[i]!);
    for (let i = 0; i < size && result.length < count; i++)
      if (distances[i] === cut) result.push(this.#ids[i]!);
    return result;
  }
}
