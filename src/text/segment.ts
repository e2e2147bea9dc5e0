/**
 * Word segmentation for full-text search, shared by indexing and querying so both see the same terms.
 *
 * FTS5's unicode61 tokenizer treats a run of CJK characters as one token, so "知识库" inside
 * "这个知识库很好" could never be found; the trigram tokenizer cannot match two-character words. We
 * therefore rewrite every CJK run into its character unigrams and bigrams, separated by spaces, before
 * indexing, and turn queries into the same unigrams and bigrams. Unigrams give recall for one-character
 * words, bigrams give precision (most Chinese words are two characters). Latin text is left to the
 * tokenizer (case folding, diacritics and Porter stemming are configured on the FTS5 table).
 */

/** Han, Hiragana, Katakana (incl. the prolonged sound mark) and Hangul runs. */
const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}ー]+/gu;
const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}ー]/u;
/** What unicode61 treats as token characters: letters and numbers; everything else separates. */
const WORD = /[\p{L}\p{N}]+/gu;

/** Words too common to help ranking; dropping them from queries also keeps OR queries fast. */
const STOP_WORDS = new Set(
  (
    'a an and are as at be but by can could did do does for from had has have how i if in into is it its ' +
    'me my of on or our shall should so than that the their them then there these they this those to ' +
    'was we were what when where which who whom why will with would you your'
  ).split(' '),
);

/** The most terms a query may expand to: long pasted questions would otherwise make slow OR queries. */
const MAX_QUERY_TERMS = 64;

function cjkGrams(run: string): string[] {
  const chars = Array.from(run);
  if (chars.length === 1) return chars;
  const grams: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    grams.push(chars[i]!);
    if (i + 1 < chars.length) grams.push(chars[i]! + chars[i + 1]!);
  }
  return grams;
}

/**
 * The text to put in the full-text index: CJK runs replaced by their unigrams and bigrams.
 *
 * @example
 * segmentForIndex('使用知识库') // ' 使 使用 用 用知 知 知识 识 识库 库 '
 */
export function segmentForIndex(text: string): string {
  // NFKC so that full-width Latin ("ＡＰＩ") indexes like its half-width form, as queries do.
  const normalised = text.normalize('NFKC');
  if (!CJK_CHAR.test(normalised)) return normalised;
  return normalised.replace(CJK_RUN, (run) => ` ${cjkGrams(run).join(' ')} `);
}

function collectTerms(text: string, grams: (run: string) => string[]): string[] {
  const terms = new Set<string>();
  for (const match of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
    const word = match[0];
    if (!CJK_CHAR.test(word)) {
      if (!STOP_WORDS.has(word)) terms.add(word);
      continue;
    }
    // A word may mix scripts ("vue组件"): split it into CJK runs and the rest.
    let last = 0;
    for (const run of word.matchAll(CJK_RUN)) {
      const before = word.slice(last, run.index);
      if (before && !STOP_WORDS.has(before)) terms.add(before);
      for (const gram of grams(run[0])) terms.add(gram);
      last = run.index + run[0].length;
    }
    const after = word.slice(last);
    if (after && !STOP_WORDS.has(after)) terms.add(after);
  }
  return [...terms].slice(0, MAX_QUERY_TERMS);
}

/**
 * The distinct search terms of a query, lower-cased, English stop words dropped, CJK runs as unigrams and
 * bigrams, at most 64: what the FTS5 query searches for.
 *
 * @example
 * queryTerms('How do I rebuild the 知识库?') // ['rebuild', '知', '知识', '识', '识库', '库']
 */
export function queryTerms(text: string): string[] {
  return collectTerms(text, cjkGrams);
}

/**
 * The terms that carry a query's meaning, for judging how much of a question a passage covers: like
 * `queryTerms` but CJK runs give only their bigrams (a lone character stays as it is), because common
 * single characters (的, 是) are in nearly every Chinese passage and would make anything look relevant.
 *
 * @example
 * meaningTerms('如何重建知识库') // ['如何', '何重', '重建', '建知', '知识', '识库']
 */
export function meaningTerms(text: string): string[] {
  return collectTerms(text, (run) => {
    const chars = Array.from(run);
    if (chars.length === 1) return chars;
    return chars.slice(1).map((c, i) => chars[i]! + c);
  });
}

/**
 * An FTS5 MATCH expression for a user's query: every term quoted (so no user text is read as FTS5
 * syntax) and joined with OR, leaving ranking to BM25. `null` when the query has no searchable terms.
 *
 * @example
 * ftsMatchExpression('rebuild 知识库') // '"rebuild" OR "知" OR "知识" OR ...'
 */
export function ftsMatchExpression(text: string): string | null {
  const terms = queryTerms(text);
  if (terms.length === 0) return null;
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' OR ');
}
