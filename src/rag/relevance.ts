import { queryTerms } from '../text/segment.ts';

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/** Inflections stripped before matching, so "configure(d)" matches "configuration" (longest first). */
const SUFFIXES = [
  'ations',
  'ation',
  'ments',
  'ment',
  'ings',
  'ing',
  'ions',
  'ion',
  'ies',
  'ers',
  'er',
  'ed',
  'es',
  's',
  'ly',
  'e',
];

function stem(word: string): string {
  for (const suffix of SUFFIXES) {
    if (word.length - suffix.length >= 4 && word.endsWith(suffix)) return word.slice(0, -suffix.length);
  }
  return word;
}

/** Characters NFKC changes in practice: full-width forms and compatibility ideographs and letters. */
const FULL_WIDTH = /[\uFF00-\uFFEF\u3000\uF900-\uFAFF\u2100-\u214F]/;

const LETTER_OR_NUMBER = /[\p{L}\p{N}]/u;
const ASCII_WORD_CHAR = /[A-Za-z0-9]/;

/**
 * Roots shorter than this match whole words only (give or take an inflection in `SHORT_ROOT_ENDINGS`):
 * as word starts, "hi" matched "history" and "car" "carries", which made a greeting look answered.
 */
const SHORT_ROOT = 4;
const SHORT_ROOT_ENDINGS = new Set(['', 's', 'es', 'd', 'ed', 'ing', 'er', 'ers']);

/** Whether the character `text[start, end)` (one code unit or a surrogate pair) continues a word. */
function wordCharacter(text: string, start: number, end: number): boolean {
  const character = text.slice(start, end);
  // CJK characters are written right next to Latin words ("使用Redis缓存"), so they end them.
  return LETTER_OR_NUMBER.test(character) && !CJK.test(character);
}

/** Whether a word starts at `i`: nothing before it, or a character that is no letter or digit. */
function wordStartsAt(text: string, i: number): boolean {
  if (i === 0) return true;
  const before = text.charCodeAt(i - 1);
  if (before < 128) return !ASCII_WORD_CHAR.test(text[i - 1]!);
  // A low surrogate: the character before is the whole pair.
  const start = before >= 0xdc00 && before <= 0xdfff && i >= 2 ? i - 2 : i - 1;
  return !wordCharacter(text, start, i);
}

/** Whether the word starting with `root` at `i` is `root` itself or one of its `SHORT_ROOT_ENDINGS`. */
function wholeWordAt(text: string, i: number, root: string): boolean {
  let end = i + root.length;
  while (end < text.length && ASCII_WORD_CHAR.test(text[end]!)) end++;
  if (!SHORT_ROOT_ENDINGS.has(text.slice(i + root.length, end))) return false;
  if (end >= text.length || text.charCodeAt(end) < 128) return true;
  const code = text.charCodeAt(end);
  const stop = code >= 0xd800 && code <= 0xdbff ? end + 2 : end + 1;
  return !wordCharacter(text, end, stop);
}

/**
 * Whether `root` occurs in `text` at the start of a word (not preceded by a letter or digit of a
 * non-CJK script), as the whole word when the root is short. A scan with `indexOf` and shared patterns,
 * rather than a Unicode-aware regular expression per term: every new question would compile new ones
 * (~0.3 ms each).
 */
function atWordStart(text: string, root: string): boolean {
  const whole = root.length < SHORT_ROOT;
  for (let i = text.indexOf(root); i >= 0; i = text.indexOf(root, i + 1)) {
    if (wordStartsAt(text, i) && (!whole || wholeWordAt(text, i, root))) return true;
  }
  return false;
}

/**
 * A test of how much of a question a passage covers: the share (0 to 1) of the question's meaningful terms
 * (see `queryTerms`: CJK bigrams, so common single characters like 的 and 是 count for nothing) found
 * in the passage. Latin terms match at a word start after light stemming; CJK bigrams match anywhere. This is the full-text relevance signal: unlike a BM25 or fused score it means the
 * same thing for every query and corpus, so one threshold (`MIN_TERM_COVERAGE`) can be set for all.
 *
 * @example
 * const coverage = termCoverage('How do I rebuild a knowledge base?');
 * coverage('Use --rebuild to rebuild the knowledge base from scratch.') // 1
 */
export function termCoverage(question: string): (passage: string) => number {
  const terms = queryTerms(question);
  const tests = terms.map((term): ((text: string) => boolean) => {
    if (CJK.test(term)) return (text) => text.includes(term);
    const root = stem(term);
    return (text) => atWordStart(text, root);
  });
  return (passage) => {
    if (tests.length === 0) return 0;
    // NFKC (full-width Latin such as "ＡＰＩ") only when the passage has such characters: it is the
    // costliest step otherwise, and queries are always normalised.
    const text = (FULL_WIDTH.test(passage) ? passage.normalize('NFKC') : passage).toLowerCase();
    let hits = 0;
    for (const test of tests) if (test(text)) hits += 1;
    return hits / tests.length;
  };
}
