/**
 * Counting whole texts under one encoding: gpt-tokenizer's pre-tokenizer pattern splits a text into
 * pieces, bpe.ts counts each piece, and a cache remembers the counts of short pieces. Also what
 * measureTokens/countJoined need to count a joined text from parts counted before. The public API over
 * this is tokens.ts.
 *
 * Special-token strings such as `<|endoftext|>` are counted as plain text, unlike gpt-tokenizer's
 * `countTokens`, which throws: documents may quote them.
 */
import { createRequire } from 'node:module';
import { CL100K_TOKEN_SPLIT_REGEX, O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { BytePairEncoder, type RankTable } from './bpe.ts';
import { o200kAsciiPieceEnd } from './pretokenize.ts';
import { cacheFileFor, readCachedTables, writeCachedTables } from './vocab-cache.ts';

/**
 * The encodings we count in: o200k_base (GPT-4o family, chunk sizes) and cl100k_base (older models).
 *
 * @example
 * const name: EncodingName = 'o200k_base';
 */
export type EncodingName = 'o200k_base' | 'cl100k_base';

const PATTERNS: Record<EncodingName, RegExp> = {
  o200k_base: O200K_TOKEN_SPLIT_REGEX,
  cl100k_base: CL100K_TOKEN_SPLIT_REGEX,
};

/** Hand-written splitters for ASCII text, where we have one (pretokenize.ts). */
const ASCII_SPLITS: Partial<Record<EncodingName, (text: string, pos: number) => number>> = {
  o200k_base: o200kAsciiPieceEnd,
};

/**
 * How far past a match the pre-tokenizer patterns look: a word is tried with a contraction ("'ll", "'re"),
 * three more characters. Whitespace runs look further, so texts ending in whitespace get no safe region.
 */
const LOOKAHEAD = 3;
/** Piece boundaries remembered at the start of a measured text, where a joined count can fall in step. */
const HEADS = 8;

/** Pieces whose token counts are remembered: a bound, so that a long ingest cannot grow the cache without limit. */
const CACHE_LIMIT = 50_000;

/**
 * A text with its o200k_base token count and what `countJoined` needs to count it inside a longer text
 * without reading it again. The pre-tokenizer has no lookbehind, so once a scan of the joined text reaches
 * a piece boundary of this text, it splits the rest exactly as this text alone was split, up to the
 * pieces near its end, which may merge with what follows (`tail`).
 *
 * @example
 * const measured: MeasuredText = encodingCounter('o200k_base').measure('First sentence.');
 * measured.tokens // 3
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

/**
 * Token counting over one encoding: whole texts, measured texts, joins of measured texts and prefixes.
 * Obtain one with `encodingCounter(name)`, which shares it per encoding.
 *
 * @example
 * const counter = encodingCounter('o200k_base');
 * counter.count('Hello, world!')                  // 4
 * counter.prefixWithin('Hello, world!', 2)        // 'Hello,'
 */
export class EncodingCounter {
  private readonly bpe: BytePairEncoder;
  /** The pre-tokenizer pattern, sticky: it splits the piece starting exactly at `lastIndex`. */
  private readonly pattern: RegExp;
  /** The same split done by hand where ASCII decides it (pretokenize.ts), else -1. */
  private readonly asciiPieceEnd: ((text: string, pos: number) => number) | undefined;
  /**
   * Token counts of recently seen pieces. Chunking counts each sentence and then each chunk built from
   * those sentences, so the second count is mostly cache hits; common words hit it too.
   */
  private cache = new Map<string, number>();

  constructor(bpe: BytePairEncoder, pattern: RegExp, asciiPieceEnd?: (text: string, pos: number) => number) {
    this.bpe = bpe;
    // A private copy (`lastIndex` of a shared regex would be clobbered by other users), sticky: pieces are
    // contiguous, since the pattern matches at any position, and `test` allocates no match array.
    this.pattern = new RegExp(pattern.source, pattern.flags.replace('g', '') + 'y');
    this.asciiPieceEnd = asciiPieceEnd;
  }

  /** Where the piece starting at `pos` ends; -1 at the end of `text`. */
  private pieceEnd(text: string, pos: number): number {
    const end = this.asciiPieceEnd?.(text, pos) ?? -1;
    if (end >= 0) return end;
    const pattern = this.pattern;
    pattern.lastIndex = pos;
    return pattern.test(text) ? pattern.lastIndex : -1;
  }

  /** Tokens in `text`. */
  count(text: string): number {
    let total = 0;
    for (let pos = 0, end = this.pieceEnd(text, 0); end >= 0; pos = end, end = this.pieceEnd(text, pos)) {
      total += this.pieceTokens(text.slice(pos, end));
    }
    return total;
  }

  /** `count(text)` with the piece boundaries `countJoined` needs; see MeasuredText. */
  measure(text: string): MeasuredText {
    let tokens = 0;
    const heads: number[] = [];
    // Pieces ending within LOOKAHEAD of the end may change when text follows (see MeasuredText).
    const safeEnd = /\s$/.test(text) ? 0 : text.length - LOOKAHEAD;
    let tail = -1;
    let tokensBeforeTail = 0;
    for (let pos = 0, end = this.pieceEnd(text, 0); end >= 0; pos = end, end = this.pieceEnd(text, pos)) {
      if (tail < 0 && end > safeEnd) {
        tail = pos;
        tokensBeforeTail = tokens;
      }
      tokens += this.pieceTokens(text.slice(pos, end));
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
      const end = this.pieceEnd(text, pos);
      if (end < 0) break;
      total += this.pieceTokens(text.slice(pos, end));
      pos = end;
    }
    return total;
  }

  /** The longest prefix of `text` whose pre-tokens hold at most `maxTokens` tokens, cut at a code point. */
  prefixWithin(text: string, maxTokens: number): string {
    let used = 0;
    for (let pos = 0, end = this.pieceEnd(text, 0); end >= 0; pos = end, end = this.pieceEnd(text, pos)) {
      const piece = text.slice(pos, end);
      const tokens = this.pieceTokens(piece);
      if (used + tokens <= maxTokens) {
        used += tokens;
        continue;
      }
      // Walk this piece's tokens (merged afresh: a cached count has no boundaries) to the cut.
      return text.slice(0, pos + this.bpe.prefixLength(piece, maxTokens - used));
    }
    return text;
  }

  private pieceTokens(piece: string): number {
    const cached = this.cache.get(piece);
    if (cached !== undefined) return cached;
    const tokens = this.bpe.tokensIn(piece);
    // Long pieces are rare and would make the cache's memory unbounded; merging them again is cheap enough.
    if (piece.length <= 64) {
      if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
      this.cache.set(piece, tokens);
    }
    return tokens;
  }
}

const require = createRequire(import.meta.url);
const counters = new Map<EncodingName, EncodingCounter>();

/**
 * The shared counter for an encoding. Its vocabulary loads on the first call for that encoding, never
 * at import: about 15 ms from the vocabulary cache, else about 0.3 s and 30 MB of heap for o200k_base.
 *
 * @example
 * encodingCounter('cl100k_base').count('Hello, world!') // 4
 */
export function encodingCounter(name: EncodingName): EncodingCounter {
  let found = counters.get(name);
  if (!found) {
    found = new EncodingCounter(loadEncoder(name), PATTERNS[name], ASCII_SPLITS[name]);
    counters.set(name, found);
  }
  return found;
}

/**
 * The encoder of an encoding, from the vocabulary cache (vocab-cache.ts, about 15 ms) or else built from
 * gpt-tokenizer's rank table (about 0.3 s) and cached for the next process.
 */
function loadEncoder(name: EncodingName): BytePairEncoder {
  const specifier = `gpt-tokenizer/cjs/bpeRanks/${name}`;
  const cacheFile = cacheFileFor(require.resolve(specifier), name);
  const cached = cacheFile === undefined ? undefined : readCachedTables(cacheFile);
  if (cached) return new BytePairEncoder(cached);
  // A synchronous, lazy load: the rank tables are megabytes of JavaScript that most imports never need.
  const loaded = require(specifier) as { default: RankTable };
  const encoder = new BytePairEncoder(loaded.default);
  if (cacheFile !== undefined) writeCachedTables(cacheFile, encoder.tables());
  return encoder;
}
