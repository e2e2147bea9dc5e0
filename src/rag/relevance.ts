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
 * Whether `root` occurs in `text` at the start of a word (not preceded by a letter or digit of a
 * non-CJK script). A scan with `indexOf` and one shared pattern for the preceding character, rather than a
 * Unicode-aware regular expression per term: every new question would compile new ones (~0.3 ms each).
 */
function atWordStart(text: string, root: string): boolean {
  for (let i = text.indexOf(root); i >= 0; i = text.indexOf(root, i + 1)) {
    if (i === 0) return true;
    const before = text.charCodeAt(i - 1);
    if (before < 128) {
      if (!ASCII_WORD_CHAR.test(text[i - 1]!)) return true;
      continue;
    }
    // A low surrogate: the character before is the whole pair.
    const start = before >= 0xdc00 && before <= 0xdfff && i >= 2 ? i - 2 : i - 1;
    const previous = text.slice(start, i);
    // CJK characters are written right next to Latin words ("使用Redis缓存"), so they end them.
    if (!LETTER_OR_NUMBER.test(previous) || CJK.test(previous)) return true;
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
