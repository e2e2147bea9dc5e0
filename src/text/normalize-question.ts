/**
 * The form of a question under which repeats are recognised: the answer cache keys on it, and the
 * unanswered-questions report groups by it.
 */

/** Punctuation a question may end with, ASCII and full-width, which does not change what is asked. */
const TRAILING = /[\s?？!！.。,，;；:：~～…]+$/u;

/**
 * NFKC (full-width letters and digits become ASCII), lower case, runs of white space as one space, and
 * no closing punctuation: `"  How do I  back up?? "` and `"how do i back up"` are the same question.
 *
 * @example
 * normalizeQuestion('  How do I  BACK UP？ '); // 'how do i back up'
 */
export function normalizeQuestion(question: string): string {
  return question.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim().replace(TRAILING, '');
}
