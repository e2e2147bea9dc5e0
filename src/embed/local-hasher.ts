import { CJK, CJK_STOP_CHARS, ENGLISH_STOP_WORDS, SKIP, WORD, charTables, stem } from './local-lexicon.ts';

/**
 * Signed feature hashing of text into a fixed-length vector, in one pass over the UTF-16 code units with
 * no string allocated per word or n-gram. Features, in three groups:
 * - `word`: stemmed word unigrams (stop words and one-letter words dropped), and CJK character bigrams
 *   (most Chinese words are two characters);
 * - `phrase`: bigrams of consecutive kept words ("vector search"), which word order alone would lose;
 * - `char`: character 3-, 4- and 5-grams of each unstemmed word with boundary markers ("^emb", "bed",
 *   "ing$"), which match across inflections, compounds and typos; and CJK character unigrams.
 * Each distinct feature is counted exactly (an open-addressing table of 30-bit feature hashes), weighted
 * 1 + ln(tf) so repetition counts but does not dominate, then added with a hash-derived sign to a
 * hash-derived coordinate (signs make collisions cancel on average instead of piling up). Each group is
 * L2-normalised on its own and mixed with `FeatureWeights`, so the many character n-grams cannot drown
 * the words whatever the text's length; the result is L2-normalised.
 *
 * No IDF: a vector must not depend on the rest of the corpus (that would change every stored vector
 * whenever a document is added), and the fused BM25 ranking supplies corpus statistics anyway.
 */

export interface FeatureWeights {
  word: number;
  phrase: number;
  char: number;
}

/** Group codes, kept in a feature key's two low bits; group g's sums start at (g - 1) * dimensions. */
const GROUP_WORD = 1;
const GROUP_PHRASE = 2;
const GROUP_CHAR = 3;

/** Longer words are truncated; n-grams are taken from words of at most `MAX_GRAM_WORD` code units. */
const MAX_WORD = 64;
const MAX_GRAM_WORD = 24;
/** Character n-gram lengths (3 must stay the minimum: the loop below hashes two code units up front). */
const MIN_GRAM = 3;
const MAX_GRAM = 5;

const TWO_POW_MINUS_29 = 2 ** -29;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const GOLDEN = 0x9e3779b1;
/** Distinct starting points so the same code units in different feature kinds hash apart. */
const SEED_STOP = FNV_OFFSET;
const SEED_WORD = 0x5bd1e995;
const SEED_CHAR = 0x27d4eb2f;
const SEED_PHRASE = 0x165667b1;
const SEED_CJK_UNIGRAM = 0x3c6ef372;
const SEED_CJK_BIGRAM = 0x7f4a7c15;
const BOUNDARY_START = 0x02;
const BOUNDARY_END = 0x03;

/** murmur3's finaliser: spreads FNV's weak low bits over the whole word. Never returns 0 (empty slot). */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h === 0 ? 1 : h;
}

function fnv(seed: number, text: string): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/** 1 + ln(tf) for small tf, the common case, looked up instead of computed. */
const SUBLINEAR = Float64Array.from({ length: 64 }, (_, tf) => (tf === 0 ? 0 : 1 + Math.log(tf)));

const STOP_HASHES = new Set(ENGLISH_STOP_WORDS.map((word) => fnv(SEED_STOP, word)));
const CJK_STOP = new Set(CJK_STOP_CHARS.map((char) => char.codePointAt(0)));

/**
 * A reusable hasher for one vector length: its scratch tables are kept between calls, so reuse one per
 * embedder (it is not re-entrant, which JavaScript's single thread guarantees for synchronous calls).
 *
 * @example
 * const hasher = new FeatureHasher(384, { word: 0.5, phrase: 0.2, char: 1 });
 * hasher.embed('Hashing text into vectors').length // 384
 */
export class FeatureHasher {
  readonly dimensions: number;
  /** Group weights, indexed by group code - 1. */
  private readonly mix: Float64Array;
  /** Open-addressing table of the current text's features: key (hash and group) and count. */
  private keys = new Int32Array(1 << 12);
  private counts = new Float32Array(1 << 12);
  /** The occupied slots, in insertion order, so clearing and summing touch only those. */
  private used = new Int32Array(1 << 12);
  private size = 0;
  /** Per-group signed sums, group after group, then their weighted mix. */
  private readonly sums: Float64Array;
  private readonly mixed: Float64Array;
  private readonly word = new Uint16Array(MAX_WORD);
  private readonly gram = new Uint16Array(MAX_GRAM_WORD + 2);

  constructor(dimensions: number, weights: FeatureWeights) {
    this.dimensions = dimensions;
    this.mix = Float64Array.of(weights.word, weights.phrase, weights.char);
    this.sums = new Float64Array(3 * dimensions);
    this.mixed = new Float64Array(dimensions);
  }

  /** The unit vector of `text`; all zeros when it has no word or CJK character. */
  embed(text: string): Float32Array {
    const { classes, folds, classifyInto } = charTables();
    const n = text.length;
    const word = this.word;
    let previousWord = 0;
    let previousCjk = -1;
    let i = 0;
    while (i < n) {
      let code = text.charCodeAt(i);
      if (classes[code] === 0) classifyInto(code);
      let kind = classes[code];
      if (kind === WORD) {
        let length = 0;
        let ascii = true;
        let letters = false;
        do {
          if (kind === WORD && length < MAX_WORD) {
            const folded = folds[code]!;
            word[length++] = folded;
            if (folded > 0x7f) ascii = false;
            if (folded > 0x39) letters = true;
          }
          if (++i >= n) break;
          code = text.charCodeAt(i);
          if (classes[code] === 0) classifyInto(code);
          kind = classes[code];
        } while (kind === WORD || kind === SKIP);
        previousWord = this.addWord(length, ascii, letters, previousWord);
        previousCjk = -1;
        continue;
      }
      let codePoint = code;
      let width = 1;
      // Han extensions B and later live outside the BMP, as surrogate pairs (U+20000..U+323AF).
      if (code >= 0xd840 && code <= 0xd888 && i + 1 < n) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          codePoint = ((code - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          kind = CJK;
          width = 2;
        }
      }
      if (kind === CJK) {
        if (!CJK_STOP.has(codePoint)) this.add(fmix(codePoint ^ SEED_CJK_UNIGRAM), GROUP_CHAR);
        if (previousCjk >= 0) {
          this.add(fmix(Math.imul(previousCjk, GOLDEN) ^ codePoint ^ SEED_CJK_BIGRAM), GROUP_WORD);
        }
        previousCjk = codePoint;
        previousWord = 0;
      } else if (kind !== SKIP) {
        previousCjk = -1;
      }
      i += width;
    }
    return this.finish();
  }

  /** Adds the features of `word[0..length)`; returns the word's hash for the next phrase bigram. */
  private addWord(length: number, ascii: boolean, letters: boolean, previous: number): number {
    if (length < 2) return previous;
    const word = this.word;
    let h = SEED_STOP;
    for (let k = 0; k < length; k++) h = Math.imul(h ^ word[k]!, FNV_PRIME);
    if (STOP_HASHES.has(h)) return previous;

    if (letters && length <= MAX_GRAM_WORD) {
      const gram = this.gram;
      const total = length + 2;
      gram[0] = BOUNDARY_START;
      for (let k = 0; k < length; k++) gram[k + 1] = word[k]!;
      gram[length + 1] = BOUNDARY_END;
      // Each start extends one running hash: the 3-gram's hash is the prefix of the 4- and 5-gram's.
      for (let start = 0; start + MIN_GRAM <= total; start++) {
        let g = Math.imul(SEED_CHAR ^ gram[start]!, FNV_PRIME);
        g = Math.imul(g ^ gram[start + 1]!, FNV_PRIME);
        const end = Math.min(start + MAX_GRAM, total);
        for (let k = start + MIN_GRAM - 1; k < end; k++) {
          g = Math.imul(g ^ gram[k]!, FNV_PRIME);
          this.add(fmix(g), GROUP_CHAR);
        }
      }
    }

    const stemmed = ascii && letters ? stem(word, length) : length;
    let s = SEED_WORD;
    for (let k = 0; k < stemmed; k++) s = Math.imul(s ^ word[k]!, FNV_PRIME);
    s = fmix(s);
    this.add(s, GROUP_WORD);
    if (previous !== 0) this.add(fmix(Math.imul(previous, GOLDEN) ^ s ^ SEED_PHRASE), GROUP_PHRASE);
    return s;
  }

  /**
   * Counts one occurrence of a feature whose hash is `hash`; `group` (1..3) goes in its two low bits,
   * which also keeps every key non-zero (0 marks an empty slot). Linear probing; doubles at half load.
   */
  private add(hash: number, group: number): void {
    const key = (hash & ~3) | group;
    const keys = this.keys;
    const mask = keys.length - 1;
    let slot = (key >>> 2) & mask;
    for (;;) {
      const found = keys[slot];
      if (found === key) {
        this.counts[slot]! += 1;
        return;
      }
      if (found === 0) break;
      slot = (slot + 1) & mask;
    }
    keys[slot] = key;
    this.counts[slot] = 1;
    this.used[this.size++] = slot;
    if (this.size * 2 > keys.length) this.grow();
  }

  private grow(): void {
    const { keys, counts } = this;
    const previous = this.used.slice(0, this.size);
    const length = keys.length * 2;
    const mask = length - 1;
    this.keys = new Int32Array(length);
    this.counts = new Float32Array(length);
    this.used = new Int32Array(length);
    for (let j = 0; j < previous.length; j++) {
      const slot = previous[j]!;
      const key = keys[slot]!;
      let target = (key >>> 2) & mask;
      while (this.keys[target] !== 0) target = (target + 1) & mask;
      this.keys[target] = key;
      this.counts[target] = counts[slot]!;
      this.used[j] = target;
    }
  }

  /** Weighted, signed sums per group, mixed into one unit vector; clears the table for the next text. */
  private finish(): Float32Array {
    const dims = this.dimensions;
    const sums = this.sums;
    const { keys, counts, used } = this;
    sums.fill(0);
    for (let j = 0; j < this.size; j++) {
      const slot = used[j]!;
      const key = keys[slot]!;
      const tf = counts[slot]!;
      keys[slot] = 0;
      const weight = tf < SUBLINEAR.length ? SUBLINEAR[tf]! : 1 + Math.log(tf);
      // Bits 0-1: group (1..3); bit 2: sign; bits 3-31 scaled to [0, dims): the coordinate (a
      // multiplication by a power of two, cheaper than a modulo).
      const index = ((key & 3) - 1) * dims + (((key >>> 3) * dims * TWO_POW_MINUS_29) | 0);
      sums[index]! += key & 4 ? weight : -weight;
    }
    this.size = 0;

    const mix = this.mix;
    const mixed = this.mixed;
    mixed.fill(0);
    for (let group = 0; group < 3; group++) {
      const offset = group * dims;
      let norm = 0;
      for (let d = 0; d < dims; d++) norm += sums[offset + d]! * sums[offset + d]!;
      if (norm === 0) continue;
      const scale = mix[group]! / Math.sqrt(norm);
      for (let d = 0; d < dims; d++) mixed[d]! += sums[offset + d]! * scale;
    }
    let total = 0;
    for (let d = 0; d < dims; d++) total += mixed[d]! * mixed[d]!;
    const out = new Float32Array(dims);
    if (total === 0) return out;
    const scale = 1 / Math.sqrt(total);
    for (let d = 0; d < dims; d++) out[d] = mixed[d]! * scale;
    return out;
  }
}
