/**
 * The byte-pair merge engine: one pre-token in, its tokens under one vocabulary out. Pre-tokenizing a
 * whole text, caching and the public counting API live in token-counter.ts and tokens.ts.
 *
 * The vocabularies are gpt-tokenizer's; the merge loop is our own. gpt-tokenizer looks every candidate pair
 * up by decoding its bytes as UTF-8 first, which makes it about 1.3 MB/s on Chinese text it has not seen
 * before (a CJK clause is one long pre-token) and 4 MB/s on English, too slow for an ingest pipeline that
 * must reach 2 MB/s end to end. Here pairs are looked up by their bytes in flat hash tables, which gives
 * the same tokens (checked against gpt-tokenizer in test/text.test.ts) at 10–20 MB/s.
 *
 * One deliberate difference from gpt-tokenizer: a pre-token that is itself in the vocabulary is one token
 * even when byte merges could not reach it, as in OpenAI's tiktoken (gpt-tokenizer counts a lone U+FEFF
 * as 2, tiktoken and we as 1).
 */
import { NO_RANK, PACKED_MAX, PackedTable } from './packed-table.ts';

/**
 * gpt-tokenizer's rank table: index = token id, value = the token's text, or its bytes when not UTF-8.
 *
 * @example
 * const ranks = require('gpt-tokenizer/cjs/bpeRanks/o200k_base').default as RankTable;
 */
export type RankTable = readonly (string | readonly number[])[];

/**
 * Everything a BytePairEncoder looks ranks up in, built from a RankTable: what the vocabulary cache
 * (vocab-cache.ts) stores, so that later processes skip both loading gpt-tokenizer's table and building these.
 *
 * @example
 * const again = new BytePairEncoder(new BytePairEncoder(ranks).tables()); // the same encoder
 */
export interface BpeTables {
  /** rank + 1 of every two-byte token, indexed by its two bytes (65536 entries). */
  pairs: Int32Array;
  /** A PackedTable's slots: tokens of 3 to PACKED_MAX bytes. */
  packed: Int32Array;
  /** Longer tokens, keyed by their bytes as a latin1 string. */
  long: Map<string, number>;
}

/** Pieces longer than this many bytes are merged with a heap instead of by scanning. */
const HEAP_FROM = 128;

/**
 * A byte-level BPE over one vocabulary: counts the tokens of one pre-token, or finds where its first n
 * tokens end. Not reentrant (it merges in scratch buffers it owns), which is fine in single-threaded JS.
 *
 * @example
 * const bpe = new BytePairEncoder(ranks); // ranks: gpt-tokenizer's o200k_base table
 * bpe.tokensIn(' world')        // 1
 * bpe.prefixLength('Hello', 0)  // 0
 */
export class BytePairEncoder {
  /** rank + 1 of every two-byte token, indexed by the two bytes: the most frequent lookups, kept in cache. */
  private readonly pairs: Int32Array;
  private readonly packed: PackedTable;
  private readonly long: Map<string, number>;
  private readonly utf8 = new TextEncoder();
  // Scratch space reused by every call: the merge loop then allocates nothing. The parts of a piece form
  // a linked list over byte offsets: `next[i]` is where the part starting at byte i ends.
  private bytes = new Uint8Array(256);
  private next = new Int32Array(257);
  private prev = new Int32Array(257);
  private ranks = new Int32Array(257);
  private heapRanks = new Int32Array(771);
  private heapOffsets = new Int32Array(771);

  /** From gpt-tokenizer's rank table, or from the `tables()` of an encoder built from one before. */
  constructor(source: RankTable | BpeTables) {
    if (!Array.isArray(source)) {
      const tables = source as BpeTables;
      if (tables.pairs.length !== 65536) throw new RangeError('not a pair table');
      this.pairs = tables.pairs;
      this.packed = new PackedTable(0, tables.packed);
      this.long = tables.long;
      return;
    }
    const table = source as RankTable;
    this.pairs = new Int32Array(65536);
    this.long = new Map<string, number>();
    this.packed = new PackedTable(table.length);
    for (let rank = 0; rank < table.length; rank++) {
      const token = table[rank];
      if (token === undefined) continue; // the tables have holes
      let length: number;
      if (typeof token === 'string') length = this.toBytes(token);
      else {
        length = token.length;
        this.ensureCapacity(length);
        this.bytes.set(token);
      }
      if (length === 2) this.pairs[(this.bytes[0]! << 8) | this.bytes[1]!] = rank + 1;
      if (length <= PACKED_MAX) this.packed.set(this.bytes, 0, length, rank);
      else this.long.set(latin1(this.bytes, 0, length), rank);
    }
  }

  /** The lookup tables, shared (not copied): for the vocabulary cache. */
  tables(): BpeTables {
    return { pairs: this.pairs, packed: this.packed.raw, long: this.long };
  }

  /** Tokens in one pre-token (a match of the encoding's split pattern). */
  tokensIn(piece: string): number {
    const length = this.merge(piece);
    let tokens = 0;
    for (let i = 0; i < length; i = this.next[i]!) tokens++;
    return tokens;
  }

  /**
   * UTF-16 length of the first `maxTokens` tokens of one pre-token, cut back to a code point: a token
   * that ends inside a character is dropped with the character.
   */
  prefixLength(piece: string, maxTokens: number): number {
    const length = this.merge(piece);
    let cutByte = 0;
    for (let kept = 0; kept < maxTokens && cutByte < length; kept++) cutByte = this.next[cutByte]!;
    return charsInBytes(piece, cutByte);
  }

  /**
   * Byte-pair merges of one pre-token, leaving its tokens as the linked list `next` from byte 0 to the
   * returned byte length. Classic BPE: repeatedly merge the adjacent pair with the lowest rank (the
   * leftmost on ties). Pieces are mostly words or clauses, where scanning for the lowest pair is fastest;
   * long ones (an unpunctuated CJK page, a run of symbols) use a heap so that no input is quadratic.
   */
  private merge(piece: string): number {
    const length = this.toBytes(piece);
    const { next, prev, ranks } = this;
    if (this.rank(0, length, piece) !== NO_RANK) {
      next[0] = length;
      return length;
    }
    for (let i = 0; i < length; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    for (let i = 0; i < length - 1; i++) ranks[i] = this.rank(i, i + 2);
    ranks[length - 1] = NO_RANK;
    if (length > HEAP_FROM) return this.mergeWithHeap(length);
    for (;;) {
      let best = NO_RANK;
      let at = -1;
      for (let i = 0; i < length; i = next[i]!) {
        if (ranks[i]! < best) {
          best = ranks[i]!;
          at = i;
        }
      }
      if (at < 0) return length;
      // Merge the part at `at` with the one after it, then re-rank the pairs that changed.
      const gone = next[at]!;
      const after = next[gone]!;
      next[at] = after;
      if (after < length) prev[after] = at;
      ranks[at] = after < length ? this.rank(at, next[after]!) : NO_RANK;
      const before = prev[at]!;
      if (before >= 0) ranks[before] = this.rank(before, after);
    }
  }

  /** `merge` for long pieces: pairs in a min-heap by (rank, offset), stale entries skipped when popped. */
  private mergeWithHeap(length: number): number {
    const { next, prev, ranks, heapRanks, heapOffsets } = this;
    let size = 0;
    const less = (i: number, j: number) =>
      heapRanks[i]! < heapRanks[j]! || (heapRanks[i] === heapRanks[j] && heapOffsets[i]! < heapOffsets[j]!);
    const swap = (i: number, j: number) => {
      const r = heapRanks[i]!;
      const o = heapOffsets[i]!;
      heapRanks[i] = heapRanks[j]!;
      heapOffsets[i] = heapOffsets[j]!;
      heapRanks[j] = r;
      heapOffsets[j] = o;
    };
    const push = (offset: number) => {
      if (ranks[offset] === NO_RANK) return;
      let i = size++;
      heapRanks[i] = ranks[offset]!;
      heapOffsets[i] = offset;
      while (i > 0 && less(i, (i - 1) >> 1)) {
        swap(i, (i - 1) >> 1);
        i = (i - 1) >> 1;
      }
    };
    for (let i = 0; i < length - 1; i++) push(i);
    while (size > 0) {
      const rank = heapRanks[0]!;
      const at = heapOffsets[0]!;
      swap(0, --size);
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const smallest = l + 1 < size && less(l + 1, l) ? l + 1 : l;
        if (l >= size || !less(smallest, i)) break;
        swap(i, smallest);
        i = smallest;
      }
      // Stale: the part was merged away (prev = -2) or its pair has changed since.
      if (prev[at] === -2 || ranks[at] !== rank) continue;
      const gone = next[at]!;
      const after = next[gone]!;
      next[at] = after;
      prev[gone] = -2;
      if (after < length) prev[after] = at;
      ranks[at] = after < length ? this.rank(at, next[after]!) : NO_RANK;
      push(at);
      const before = prev[at]!;
      if (before >= 0) {
        ranks[before] = this.rank(before, after);
        push(before);
      }
    }
    return length;
  }

  /** UTF-8 bytes of `piece` into the scratch buffer; returns their length. */
  private toBytes(piece: string): number {
    this.ensureCapacity(piece.length * 3);
    const bytes = this.bytes;
    for (let i = 0; i < piece.length; i++) {
      const code = piece.charCodeAt(i);
      if (code >= 0x80) return this.utf8.encodeInto(piece, bytes).written;
      bytes[i] = code;
    }
    return piece.length;
  }

  private ensureCapacity(length: number): void {
    if (length <= this.bytes.length) return;
    const size = Math.max(length, this.bytes.length * 2);
    this.bytes = new Uint8Array(size);
    this.next = new Int32Array(size + 1);
    this.prev = new Int32Array(size + 1);
    this.ranks = new Int32Array(size + 1);
    // Each merge pushes at most two pairs onto the heap, after the initial length - 1.
    this.heapRanks = new Int32Array(3 * size + 3);
    this.heapOffsets = new Int32Array(3 * size + 3);
  }

  /** Rank of the byte string bytes[from, to), or NO_RANK. `ascii` is the same string when known. */
  private rank(from: number, to: number, ascii?: string): number {
    if (to - from === 2) {
      const value = this.pairs[(this.bytes[from]! << 8) | this.bytes[from + 1]!]!;
      return value === 0 ? NO_RANK : value - 1;
    }
    if (to - from <= PACKED_MAX) return this.packed.get(this.bytes, from, to);
    const key = ascii !== undefined && ascii.length === to - from ? ascii : latin1(this.bytes, from, to);
    return this.long.get(key) ?? NO_RANK;
  }
}

/** Bytes as a string of char codes 0–255: a cheap, exact map key for long tokens. */
function latin1(bytes: ArrayLike<number>, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** How many UTF-16 units of `text` fit in its first `byteLimit` UTF-8 bytes, never splitting a code point. */
function charsInBytes(text: string, byteLimit: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.codePointAt(i)!;
    // Lone surrogates are encoded as U+FFFD (3 bytes), as TextEncoder does.
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (bytes + size > byteLimit) break;
    bytes += size;
    i += code >= 0x10000 ? 2 : 1;
  }
  return i;
}
