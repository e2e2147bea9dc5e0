/**
 * Cutting text into sentences, and text over a token budget into pieces that fit: at clauses, then words,
 * then token boundaries. Pure; shared by anything that must cut prose to a budget (chunking today).
 *
 * Sentence ends: `. ! ?` before whitespace and no lowercase (so "e.g. this" and "Vue.js" stay whole, and
 * abbreviations and initials do not end sentences), `。！？；` anywhere, `…` unless lowercase follows;
 * closing quotes and brackets stay with their sentence. Clause ends: `，、；：` anywhere, `, ; :` before
 * whitespace.
 */
import { countTokens, truncateToTokens } from './tokens.ts';

/**
 * A span [start, end) of the text it was cut from, and its o200k_base tokens.
 *
 * @example
 * const piece: TextPiece = { start: 0, end: 13, tokens: 3 }; // 'First clause,' of the text it came from
 */
export interface TextPiece {
  start: number;
  end: number;
  tokens: number;
}

const CLOSERS = `)\\]"'’”»」』）】》`;
/** Latin ends need whitespace and no lowercase after (so "e.g. this" and "Vue.js" stay whole); CJK ends need nothing. */
const SENTENCE_END = new RegExp(
  `[.!?]+[${CLOSERS}]*(?=\\s+[^\\s\\p{Ll}])|[。！？；]+[${CLOSERS}]*|…+[${CLOSERS}]*(?!\\s*\\p{Ll})`,
  'gu',
);
const CLAUSE_END = /[,;:]+(?=\s)|[，、；：]+/gu;
const WORD = /\S+/gu;
/** Words whose period does not end a sentence (lower-cased, without the final period). */
const ABBREVIATIONS = new Set('e.g i.e vs cf mr mrs ms dr prof fig approx'.split(' '));
const LATIN_WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;
const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** Spans [start, end) of `text` cut after each match of `ends`, trimmed, empty ones dropped. */
function spansAfter(text: string, ends: RegExp): [number, number][] {
  const spans: [number, number][] = [];
  let start = 0;
  const push = (end: number) => {
    let a = start;
    let b = end;
    while (a < b && /\s/.test(text[a]!)) a++;
    while (b > a && /\s/.test(text[b - 1]!)) b--;
    if (b > a) spans.push([a, b]);
    start = end;
  };
  for (const match of text.matchAll(ends)) {
    if (match[0] === '.') {
      let from = match.index;
      while (from > 0 && !/\s/.test(text[from - 1]!)) from--;
      const word = text.slice(from, match.index).toLowerCase();
      // "e.g. This", "Dr. Smith", initials ("J. Smith") do not end sentences.
      if (ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word)) continue;
    }
    push(match.index + match[0].length);
  }
  push(text.length);
  return spans;
}

/**
 * The sentences of `text` as spans [start, end), trimmed of surrounding whitespace; whitespace-only
 * stretches give none. A text without sentence ends is one span.
 *
 * @example
 * const text = 'See e.g. the guide. 然后重启。Done';
 * sentenceSpans(text).map(([s, e]) => text.slice(s, e)) // ['See e.g. the guide.', '然后重启。', 'Done']
 */
export function sentenceSpans(text: string): [number, number][] {
  return spansAfter(text, SENTENCE_END);
}

/**
 * Cuts `text`, a sentence over `limit` tokens, into pieces of at most `limit` tokens each: at clause ends
 * first, then between words, then at token boundaries (see splitAtTokens). Neighbouring clauses or words
 * are packed into one piece while the piece, counted as its parts plus one token per join, fits. Pieces
 * are trimmed spans of `text`, in order; `level` is internal (where the recursion has got to).
 *
 * @example
 * const text = 'First clause, second clause; third clause';
 * splitToFit(text, 4).map((p) => text.slice(p.start, p.end)) // ['First clause,', 'second clause;', 'third clause']
 */
export function splitToFit(text: string, limit: number, level = 0): TextPiece[] {
  if (level >= 2) return splitAtTokens(text, limit);
  const spans =
    level === 0
      ? spansAfter(text, CLAUSE_END)
      : [...text.matchAll(WORD)].map((m) => [m.index, m.index + m[0].length] as [number, number]);
  if (spans.length <= 1) return splitToFit(text, limit, level + 1);
  const pieces: TextPiece[] = [];
  let current: TextPiece | undefined;
  for (const [start, end] of spans) {
    const tokens = countTokens(text.slice(start, end));
    if (tokens > limit) {
      if (current) pieces.push(current);
      current = undefined;
      for (const p of splitToFit(text.slice(start, end), limit, level + 1)) {
        pieces.push({ start: start + p.start, end: start + p.end, tokens: p.tokens });
      }
    } else if (current && current.tokens + tokens + 1 <= limit) {
      current = { start: current.start, end, tokens: current.tokens + tokens + 1 };
    } else {
      if (current) pieces.push(current);
      current = { start, end, tokens };
    }
  }
  if (current) pieces.push(current);
  return pieces;
}

/**
 * Cuts `text` into pieces of at most `limit` tokens at token boundaries, backing off to the last place
 * that is not inside a Latin word (CJK characters can be cut between), and never between the halves of a
 * surrogate pair. Pieces are trimmed unless `exact`, when together they cover `text` (code lines, whose
 * spaces matter).
 *
 * @example
 * const text = 'x'.repeat(5000);
 * splitAtTokens(text, 100).every((p) => p.tokens <= 100) // true
 */
export function splitAtTokens(text: string, limit: number, exact = false): TextPiece[] {
  const pieces: TextPiece[] = [];
  let pos = 0;
  while (pos < text.length) {
    // A window keeps each step proportional to the limit, not to the rest of the text; it grows when it
    // holds fewer than `limit` tokens (long tokens: runs of spaces or symbols).
    let cut = 0;
    for (let size = limit * 4; ; size *= 2) {
      const window = text.slice(pos, pos + size);
      cut = truncateToTokens(window, limit).length;
      if (cut < window.length || pos + size >= text.length) break;
    }
    if (cut === 0) cut = String.fromCodePoint(text.codePointAt(pos)!).length;
    if (pos + cut < text.length) {
      for (let i = cut; i > 0; i--) {
        const before = text[pos + i - 1]!;
        const after = text[pos + i]!;
        if (/[\uDC00-\uDFFF]/.test(after)) continue;
        if (
          !(LATIN_WORD_CHAR.test(before) && LATIN_WORD_CHAR.test(after)) ||
          CJK_CHAR.test(before) ||
          CJK_CHAR.test(after)
        ) {
          cut = i;
          break;
        }
      }
      // One giant word: cut at the token boundary, but never between the halves of a surrogate pair.
      if (/[\uDC00-\uDFFF]/.test(text[pos + cut] ?? '')) cut = cut > 1 ? cut - 1 : 2;
    }
    const piece = text.slice(pos, pos + cut);
    const start = exact ? pos : pos + (piece.length - piece.trimStart().length);
    const end = exact ? pos + cut : pos + piece.trimEnd().length;
    if (end > start) pieces.push({ start, end, tokens: countTokens(text.slice(start, end)) });
    pos += cut;
  }
  return pieces;
}
