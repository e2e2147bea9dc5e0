/**
 * The hash table behind the BPE merge loop (bpe.ts): short byte strings to ranks, with no allocation and
 * no string hashing per lookup.
 */

/**
 * The rank a lookup gives when the byte string is not a token: compared as int32, it never wins a merge.
 *
 * @example
 * if (table.get(bytes, 0, 3) === NO_RANK) {} // not a token
 */
export const NO_RANK = 0x7fffffff;

/**
 * Byte strings up to this long fit a PackedTable key (three int32 words, the length in the top byte).
 *
 * @example
 * const table = length <= PACKED_MAX ? packed : long; // longer tokens need another map
 */
export const PACKED_MAX = 11;

/**
 * An open-addressing hash table from byte strings of at most PACKED_MAX bytes to ranks. Merging looks up
 * millions of pairs per megabyte of CJK text; a Map keyed by strings or by numbers above 2^31 spends most
 * of its time hashing and allocating, this spends none. A slot is four int32s (three key words, rank + 1)
 * in one array, so that a probe touches one cache line. Keys are read from a byte range, never copied.
 *
 * @example
 * const table = new PackedTable(1);
 * const bytes = new TextEncoder().encode('hello');
 * table.set(bytes, 0, 5, 42);
 * table.get(bytes, 0, 5) // 42
 * table.get(bytes, 0, 4) // NO_RANK
 */
export class PackedTable {
  private readonly mask: number;
  private readonly slots: Int32Array;
  // The key packed by the last `home` call: kept in fields so that packing allocates nothing.
  private a = 0;
  private b = 0;
  private c = 0;

  /**
   * `capacity`: how many keys will be set; the table never grows. `slots`: the `slots` of a table built
   * before (the vocabulary cache, vocab-cache.ts), used as they are instead of an empty table.
   */
  constructor(capacity: number, slots?: Int32Array) {
    // Keep the load under 40% so probes stay short.
    let size = 1;
    while (size < capacity * 2.5) size *= 2;
    if (slots) {
      size = slots.length / 4;
      if (!Number.isInteger(size) || (size & (size - 1)) !== 0) throw new RangeError('not a table');
    }
    this.mask = size - 1;
    this.slots = slots ?? new Int32Array(size * 4);
  }

  /** The whole table, four int32s per slot: what `new PackedTable(0, slots)` takes back. */
  get raw(): Int32Array {
    return this.slots;
  }

  /** Stores `rank` (0 or more) for bytes[from, to); each key is set once (a second set is never found). */
  set(bytes: Uint8Array, from: number, to: number, rank: number): void {
    let slot = this.home(bytes, from, to);
    while (this.slots[slot * 4 + 3] !== 0) slot = (slot + 1) & this.mask;
    const at = slot * 4;
    this.slots[at] = this.a;
    this.slots[at + 1] = this.b;
    this.slots[at + 2] = this.c;
    this.slots[at + 3] = rank + 1;
  }

  /** The rank of bytes[from, to), or NO_RANK. */
  get(bytes: Uint8Array, from: number, to: number): number {
    const slots = this.slots;
    const { mask } = this;
    let slot = this.home(bytes, from, to);
    const { a, b, c } = this;
    for (;;) {
      const at = slot * 4;
      const value = slots[at + 3]!;
      if (value === 0) return NO_RANK;
      if (slots[at] === a && slots[at + 1] === b && slots[at + 2] === c) return value - 1;
      slot = (slot + 1) & mask;
    }
  }

  /** Packs bytes[from, to) into a, b, c and returns its home slot. */
  private home(bytes: Uint8Array, from: number, to: number): number {
    let a = 0;
    let b = 0;
    let c = (to - from) << 24;
    for (let i = from, n = 0; i < to; i++, n++) {
      const v = bytes[i]!;
      if (n < 4) a = (a << 8) | v;
      else if (n < 8) b = (b << 8) | v;
      else c |= v << ((10 - n) * 8);
    }
    this.a = a;
    this.b = b;
    this.c = c;
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b ^ (b >>> 15), 0x85ebca77) ^ Math.imul(c, 0xc2b2ae3d);
    h ^= h >>> 16;
    return h & this.mask;
  }
}
