/**
 * Word segmentation for full-text search, shared by indexing and querying so both see the same terms.
 *
 * FTS5's unicode61 tokenizer treats a run of CJK characters as one token, so "知识库" inside
 * "这个知识库很好" could never be found; the trigram tokenizer cannot match two-character words. We
 * therefore rewrite every CJK run into its character unigrams and bigrams, separated by spaces, before
 * indexing. Queries search a CJK run by its bigrams only (a one-character run by that character): most
 * Chinese words are two characters or more, so the bigrams carry the meaning, while single characters
 * (的, 是, 库) are in nearly every Chinese passage and would only slow the OR query and blur BM25. On
 * CMRC 2018 this costs nothing measurable (recall@10 0.9984 vs 0.9988 with unigrams too) and halves the
 * time of Chinese queries. Latin text is left to the tokenizer (case folding, diacritics and Porter
 * stemming are configured on the FTS5 table).
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

/** A run's unigrams and bigrams, in order: what the index holds. */
function indexGrams(run: string): string[] {
  const chars = Array.from(run);
  if (chars.length === 1) return chars;
  const grams: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    grams.push(chars[i]!);
    if (i + 1 < chars.length) grams.push(chars[i]! + chars[i + 1]!);
  }
  return grams;
}

/** A run's bigrams (a one-character run: itself): what a query searches for. */
function queryGrams(run: string): string[] {
  const chars = Array.from(run);
  if (chars.length === 1) return chars;
  return chars.slice(1).map((c, i) => chars[i]! + c);
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
  return normalised.replace(CJK_RUN, (run) => ` ${indexGrams(run).join(' ')} `);
}

/**
 * The distinct search terms of a query, lower-cased and NFKC-normalised, English stop words dropped, CJK
 * runs as bigrams, at most 64. Both the full-text search and the relevance test (how much of a question a
 * passage covers) use them.
 *
 * @example
 * queryTerms('How do I rebuild the 知识库?') // ['rebuild', '知识', '识库']
 */
export function queryTerms(text: string): string[] {
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
      for (const gram of queryGrams(run[0])) terms.add(gram);
      last = run.index + run[0].length;
    }
    const after = word.slice(last);
    if (after && !STOP_WORDS.has(after)) terms.add(after);
  }
  return [...terms].slice(0, MAX_QUERY_TERMS);
}
