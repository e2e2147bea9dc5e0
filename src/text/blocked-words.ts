/**
 * The sensitive-word check of `/ask` (`SENSITIVE_WORDS_FILE`). Chinese has no spaces between words, so a
 * word in a CJK script matches anywhere, inside unbroken text; a word in a spaced script (English) matches
 * only as a whole word, so "ass" does not block "class". Both sides are compared NFKC-normalised and case
 * folded, so full-width or upper-case spellings do not slip through.
 */

/** Scripts written without spaces between words. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Tells whether a text contains one of the words; `undefined` when there are none (no cost per request). */
export type BlockedWordTest = (text: string) => boolean;

/**
 * Compiles the list into one regular expression.
 *
 * @example
 * const blocked = blockedWordTest(['secret plan', '机密']);
 * blocked?.('What is the SECRET  plan?'); // false: two spaces are not the phrase
 * blocked?.('这份机密文件在哪里'); // true
 * blocked?.('the classic plan'); // false
 */
export function blockedWordTest(words: readonly string[]): BlockedWordTest | undefined {
  const patterns = words
    .map((w) => fold(w).trim())
    .filter(Boolean)
    .map((w) => (UNSPACED.test(w) ? escape(w) : `(?<![\\p{L}\\p{N}])${escape(w)}(?![\\p{L}\\p{N}])`));
  if (patterns.length === 0) return undefined;
  const pattern = new RegExp(patterns.join('|'), 'u');
  return (text) => pattern.test(fold(text));
}
