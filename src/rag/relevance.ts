import { queryTerms } from '../text/segment.ts';

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
/** Inflections stripped before matching, so "configured" matches "configuration" (longest first). */
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
];

function stem(word: string): string {
  for (const suffix of SUFFIXES) {
    if (word.length - suffix.length >= 4 && word.endsWith(suffix)) return word.slice(0, -suffix.length);
  }
  return word;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A test of how much of a question a passage covers: the share (0 to 1) of the question's meaningful terms
 * (see `queryTerms`: CJK bigrams, so common single characters like 的 and 是 count for nothing) found in the passage. Latin terms match at a word start after light stemming; CJK
 * bigrams match anywhere. This is the full-text relevance signal: unlike a BM25 or fused score it means the
 * same thing for every query and corpus, so one threshold (`MIN_TERM_COVERAGE`) can be set for all.
 *
 * @example
 * const coverage = termCoverage('How do I rebuild a knowledge base?');
 * coverage('Use --rebuild to rebuild the knowledge base from scratch.') // 1
 */
export function termCoverage(question: string): (passage: string) => number {
  const terms = queryTerms(question);
  const tests = terms.map((term) =>
    CJK.test(term)
      ? (text: string) => text.includes(term)
      : (
          (pattern) => (text: string) =>
            pattern.test(text)
        )(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(stem(term))}`, 'u')),
  );
  return (passage) => {
    if (tests.length === 0) return 0;
    const text = passage.normalize('NFKC').toLowerCase();
    let hits = 0;
    for (const test of tests) if (test(text)) hits += 1;
    return hits / tests.length;
  };
}
