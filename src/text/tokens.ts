/**
 * Token counting for chunking (o200k_base, the GPT-4o family's encoding) and for chat budgeting (the
 * encoding of the configured model).
 *
 * The vocabularies and pre-tokenizer patterns are gpt-tokenizer's; the byte-pair merge loop is our own.
 * gpt-tokenizer looks every candidate pair up by decoding its bytes as UTF-8 first, which makes it about
 * 1.3 MB/s on Chinese text it has not seen before (a CJK clause is one long pre-token) and 4 MB/s on
 * English, too slow for an ingest pipeline that must reach 2 MB/s end to end. Here pairs are looked up by
 * their bytes in flat hash tables, which gives the same tokens (checked against gpt-tokenizer in
 * test/text.test.ts) at 10–20 MB/s.
 *
 * Two deliberate differences from gpt-tokenizer's `countTokens`: special-token strings such as
 * `<|endoftext|>` are counted as plain text instead of throwing (documents may quote them), and a
 * pre-token that is itself in the vocabulary is one token even when byte merges could not reach it, as in
 * OpenAI's tiktoken (gpt-tokenizer counts a lone U+FEFF as 2, tiktoken and we as 1).
 *
 * Vocabularies load on first use (about 0.25 s and 30 MB of heap for o200k_base), never at import.
 */
import { createRequire } from 'node:module';
import { CL100K_TOKEN_SPLIT_REGEX, O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';

type EncodingName = 'o200k_base' | 'cl100k_base';

/** gpt-tokenizer's rank table: index = token id, value = the token's text, or its bytes when not UTF-8. */
type RankTable = readonly (string | readonly number[])[];

const PATTERNS: Record<EncodingName, RegExp> = {
  o200k_base: O200K_TOKEN_SPLIT_REGEX,
  cl100k_base: CL100K_TOKEN_SPLIT_REGEX,
};

/** Pair ranks are compared as int32; no pair means "cannot merge". */
const NO_RANK = 0x7fffffff;
/** Byte strings up to this long live in the packed hash table (three int32 words, the length in the top byte). */
const PACKED_MAX = 11;

/**
 * An open-addressing hash table from short byte strings to ranks. Merging looks up millions of pairs per
 * megabyte of CJK text; a Map keyed by strings or by numbers above 2^31 spends most of its time hashing and
 * allocating, this spends none. A slot is four int32s (three key words, rank + 1) in one array, so that a
 * probe touches one cache line.
 */
class PackedTable {
  private readonly mask: number;
  private readonly slots: Int32Array;
  private a = 0;
  private b = 0;
  private c = 0;

  constructor(capacity: number) {
    // Keep the load under 40% so probes stay short.
    let size = 1;
    while (size < capacity * 2.5) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size * 4);
  }

  set(bytes: Uint8Array, from: number, to: number, rank: number): void {
    let slot = this.home(bytes, from, to);
    while (this.slots[slot * 4 + 3] !== 0) slot = (slot + 1) & this.mask;
    const at = slot * 4;
    this.slots[at] = this.a;
    this.slots[at + 1] = this.b;
    this.slots[at + 2] = this.c;
    this.slots[at + 3] = rank + 1;
  }

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

/**
 * How far past a match the pre-tokenizer patterns look: a word is tried with a contraction ("'ll", "'re"),
 * three more characters. Whitespace runs look further, so texts ending in whitespace get no safe region.
 */
const LOOKAHEAD = 3;
/** Piece boundaries remembered at the start of a measured text, where a joined count can fall in step. */
const HEADS = 8;

/**
 * A text with its o200k_base token count and what `countJoined` needs to count it inside a longer text
 * without reading it again. The pre-tokenizer has no lookbehind, so once a scan of the joined text reaches
 * a piece boundary of this text, it splits the rest exactly as this text alone was split, up to the
 * pieces near its end, which may merge with what follows (`tail`).
 */
export interface MeasuredText {
  readonly text: string;
  readonly tokens: number;
  /** Ends of the first pieces and the tokens up to each, flattened: [end, tokens, end, tokens, ...]. */
  readonly heads: readonly number[];
  /** Where the pieces that text after this one could change begin, and the tokens before that. */
  readonly tail: number;
  readonly tokensBeforeTail: number;
}

/** Tokens of `part` before `offset` when `offset` is a piece boundary we know of, else -1. */
function tokensThrough(part: MeasuredText, offset: number): number {
  if (offset === 0) return 0;
  const { heads } = part;
  for (let k = 0; k < heads.length; k += 2) if (heads[k] === offset) return heads[k + 1]!;
  return -1;
}

/** Pieces longer than this many bytes are merged with a heap instead of by scanning. */
const HEAP_FROM = 128;

/** Pieces whose token counts are remembered: a bound, so that a long ingest cannot grow the cache without limit. */
const CACHE_LIMIT = 50_000;

/** A byte-level BPE over one vocabulary, counting tokens or finding where the first n tokens end. */
class BytePairCounter {
  /** rank + 1 of every two-byte token, indexed by the two bytes: the most frequent lookups, kept in cache. */
  private readonly pairs = new Int32Array(65536);
  private readonly packed: PackedTable;
  private readonly long = new Map<string, number>();
  private readonly pattern: RegExp;
  private readonly utf8 = new TextEncoder();
  /**
   * Token counts of recently seen pieces. Chunking counts each sentence and then each chunk built from
   * those sentences, so the second count is mostly cache hits; common words hit it too.
   */
  private cache = new Map<string, number>();
  // Scratch space reused by every call: the merge loop then allocates nothing. The parts of a piece form
  // a linked list over byte offsets: `next[i]` is where the part starting at byte i ends.
  private bytes = new Uint8Array(256);
  private next = new Int32Array(257);
  private prev = new Int32Array(257);
  private ranks = new Int32Array(257);
  private heapRanks = new Int32Array(771);
  private heapOffsets = new Int32Array(771);

  constructor(table: RankTable, pattern: RegExp) {
    // A private copy: `lastIndex` of a shared global regex would be clobbered by other users.
    this.pattern = new RegExp(pattern.source, pattern.flags);
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

  count(text: string): number {
    let total = 0;
    const pattern = this.pattern;
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      total += this.pieceTokens(match[0]);
    }
    return total;
  }

  measure(text: string): MeasuredText {
    let tokens = 0;
    const heads: number[] = [];
    // Pieces ending within LOOKAHEAD of the end may change when text follows (see MeasuredText).
    const safeEnd = /\s$/.test(text) ? 0 : text.length - LOOKAHEAD;
    let tail = -1;
    let tokensBeforeTail = 0;
    const pattern = this.pattern;
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const end = match.index + match[0].length;
      if (tail < 0 && end > safeEnd) {
        tail = match.index;
        tokensBeforeTail = tokens;
      }
      tokens += this.pieceTokens(match[0]);
      if (heads.length < 2 * HEADS) heads.push(end, tokens);
    }
    if (tail < 0) {
      tail = text.length;
      tokensBeforeTail = tokens;
    }
    return { text, tokens, heads, tail, tokensBeforeTail };
  }

  /** count(parts joined), reading only the text around the joins of measured parts. */
  countJoined(parts: readonly (MeasuredText | string)[]): number {
    const starts: number[] = [];
    let text = '';
    for (const part of parts) {
      starts.push(text.length);
      text += typeof part === 'string' ? part : part.text;
    }
    let total = 0;
    let pos = 0;
    let i = 0;
    const pattern = this.pattern;
    while (pos < text.length) {
      while (i + 1 < parts.length && starts[i + 1]! <= pos) i++;
      const part = parts[i]!;
      if (typeof part !== 'string') {
        // At a piece boundary of the part on its own, the join can no longer change anything up to the
        // part's tail: the pieces in between are the part's own, already counted.
        const local = pos - starts[i]!;
        const before = local < part.tail ? tokensThrough(part, local) : -1;
        if (before >= 0) {
          total += part.tokensBeforeTail - before;
          pos = starts[i]! + part.tail;
          continue;
        }
      }
      pattern.lastIndex = pos;
      const match = pattern.exec(text);
      if (match === null) break;
      total += this.pieceTokens(match[0]);
      pos = match.index + match[0].length;
    }
    return total;
  }

  /** The longest prefix of `text` whose pre-tokens hold at most `maxTokens` tokens, cut at a code point. */
  prefixWithin(text: string, maxTokens: number): string {
    let used = 0;
    const pattern = this.pattern;
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const piece = match[0];
      const tokens = this.pieceTokens(piece);
      if (used + tokens <= maxTokens) {
        used += tokens;
        continue;
      }
      // Walk this piece's tokens (merged afresh: a cached count has no boundaries) to the cut.
      const length = this.merge(piece);
      let cutByte = 0;
      for (let kept = 0; kept < maxTokens - used && cutByte < length; kept++) cutByte = this.next[cutByte]!;
      return text.slice(0, match.index + charsInBytes(piece, cutByte));
    }
    return text;
  }

  private pieceTokens(piece: string): number {
    const cached = this.cache.get(piece);
    if (cached !== undefined) return cached;
    const length = this.merge(piece);
    let tokens = 0;
    for (let i = 0; i < length; i = this.next[i]!) tokens++;
    // Long pieces are rare and would make the cache's memory unbounded; merging them again is cheap enough.
    if (piece.length <= 64) {
      if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
      this.cache.set(piece, tokens);
    }
    return tokens;
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

const require = createRequire(import.meta.url);
const counters = new Map<EncodingName, BytePairCounter>();

function counter(name: EncodingName): BytePairCounter {
  let found = counters.get(name);
  if (!found) {
    // A synchronous, lazy load: the rank tables are megabytes of JavaScript that most imports never need.
    const loaded = require(`gpt-tokenizer/cjs/bpeRanks/${name}`) as { default: RankTable };
    found = new BytePairCounter(loaded.default, PATTERNS[name]);
    counters.set(name, found);
  }
  return found;
}

/**
 * Tokens in `text` under o200k_base, the encoding chunk sizes are measured in. Never throws.
 *
 * @example
 * countTokens('Hello, world!') // 4
 */
export function countTokens(text: string): number {
  return counter('o200k_base').count(text);
}

/**
 * `countTokens(text)`, plus what `countJoined` needs to count a text made of this one and others without
 * reading this one again. Same cost as countTokens.
 *
 * @example
 * const a = measureTokens('First sentence.');
 * countJoined([a, ' ', measureTokens('Second one.')]) === countTokens('First sentence. Second one.') // true
 */
export function measureTokens(text: string): MeasuredText {
  return counter('o200k_base').measure(text);
}

/**
 * Exactly `countTokens(parts.join(''))`, where measured parts are read only near their joins: building
 * chunks out of measured sentences costs little more than the joins. Plain strings are read in full.
 *
 * @example
 * countJoined(['Title\n\n', measureTokens('Body text.')]) // 5
 */
export function countJoined(parts: readonly (MeasuredText | string)[]): number {
  return counter('o200k_base').countJoined(parts);
}

/** Model-name prefixes of the o200k_base family, checked before the older `gpt-4` prefix. */
const O200K_MODELS = /^(gpt-4o|gpt-4\.1|gpt-4\.5|chatgpt-4o|gpt-5|gpt-oss|o1|o3|o4)/;
/** cl100k_base models; the embedding models are here because their input limits are counted in it. */
const CL100K_MODELS = /^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada-002)/;

function encodingFor(model: string): EncodingName {
  // Gateways prefix the vendor ("openai/gpt-4o"); only the last segment names the model.
  const name = model.toLowerCase().split('/').pop() ?? '';
  if (O200K_MODELS.test(name)) return 'o200k_base';
  if (CL100K_MODELS.test(name)) return 'cl100k_base';
  // Unknown (often non-OpenAI) models: o200k_base is a fair estimate for modern BPE vocabularies.
  return 'o200k_base';
}

const modelCounters = new Map<EncodingName, (text: string) => number>();

/**
 * A token counter for a chat or embedding model, for budgeting prompts: o200k_base for gpt-4o*, gpt-4.1*,
 * gpt-5*, o1/o3/o4* and unknown models (an estimate there); cl100k_base for gpt-4*, gpt-3.5* and the
 * OpenAI embedding models. Counters are shared per encoding; the vocabulary loads on the first count.
 *
 * @example
 * const count = tokenCounterFor('gpt-4o-mini');
 * count('Hello, world!') // 4
 */
export function tokenCounterFor(model: string): (text: string) => number {
  const name = encodingFor(model);
  let count = modelCounters.get(name);
  if (!count) {
    count = (text: string) => counter(name).count(text);
    modelCounters.set(name, count);
  }
  return count;
}

/**
 * The longest prefix of `text` holding at most `maxTokens` o200k_base tokens, cut at a token boundary
 * and never inside a character (a token that ends mid-character is dropped with the character).
 *
 * @example
 * truncateToTokens('Hello, world!', 2) // 'Hello,'
 */
export function truncateToTokens(text: string, maxTokens: number): string {
  if (maxTokens <= 0) return '';
  const bpe = counter('o200k_base');
  let limit = maxTokens;
  for (;;) {
    const prefix = bpe.prefixWithin(text, limit);
    // A prefix can tokenize differently on its own than inside the whole text (its last pre-token may
    // now end early); when that costs tokens, ask for fewer. Each round lowers the limit, so this ends.
    const over = bpe.count(prefix) - maxTokens;
    if (over <= 0) return prefix;
    limit -= over;
    if (limit <= 0) return '';
  }
}
