import type Database from 'better-sqlite3';

/**
 * The per-knowledge-base full-text table `fts_<id>`. It is per knowledge base so that BM25's document
 * frequencies and average lengths describe that knowledge base alone. It is created with the knowledge
 * base and dropped with it, and named by the numeric id (never the user-chosen name), so no user text
 * is ever spliced into SQL.
 *
 * FTS5, rowid = chunk id, columns `heading` and `text` holding `segmentForIndex()` of the chunk's heading
 * path and body. Contentless (`content=''`) with `contentless_delete=1`: the indexed text is the
 * segmented form (CJK unigrams and bigrams), which is stored nowhere else, so an external-content table
 * over `chunks` would hand FTS5 different text at delete time than it indexed and corrupt the index, and
 * a normal FTS5 table would store a second, larger copy of every chunk. Contentless costs us only
 * `snippet()`/`highlight()`, which we do not use (`getChunks` returns the original text).
 * `contentless_delete=1` (SQLite >= 3.43) lets us delete a row by rowid alone.
 *
 * Tokenizer `porter unicode61 remove_diacritics 2`: unicode61 folds case and diacritics ("café" =
 * "cafe"), porter stems English ("configure", "configured" and "configuration" all index as
 * "configur"). Porter leaves non-ASCII tokens as they are, so the CJK unigrams and bigrams that
 * `segmentForIndex` separates with spaces reach the index unchanged.
 *
 * Vectors are not per knowledge base: see `chunk_vectors` and `chunk_codes` in `migrations.ts`.
 */

/** The FTS5 table of a knowledge base, quoted for SQL. */
export function ftsTable(kbId: number): string {
  return `"fts_${safeId(kbId)}"`;
}

/**
 * BM25 column weights (heading, text). A query word in a chunk's heading path says the whole section
 * is about it, so it counts double a word in passing in the body; it is not weighted higher because
 * every chunk of a section shares the heading and only the body can tell them apart.
 */
export const BM25_WEIGHTS = { heading: 2, text: 1 } as const;

/**
 * The BM25 score of a row of `table` (a quoted `ftsTable` name) with `BM25_WEIGHTS`, as a SQL expression;
 * lower is better, as FTS5's `bm25()` returns it.
 *
 * @example
 * bm25Score('"fts_3"') // 'bm25("fts_3", 2, 1)'
 */
export function bm25Score(table: string): string {
  return `bm25(${table}, ${BM25_WEIGHTS.heading}, ${BM25_WEIGHTS.text})`;
}

function safeId(kbId: number): number {
  // The id is interpolated into SQL, so it must be exactly an integer.
  if (!Number.isSafeInteger(kbId) || kbId <= 0) throw new Error(`invalid knowledge base id: ${kbId}`);
  return kbId;
}

/**
 * Creates `fts_<id>` for a new knowledge base. Call inside the transaction that inserts its row.
 *
 * @example
 * createKnowledgeBaseTables(db, 3); // fts_3
 */
export function createKnowledgeBaseTables(db: Database.Database, kbId: number): void {
  db.exec(`
    CREATE VIRTUAL TABLE ${ftsTable(kbId)} USING fts5(
      heading, text,
      content='', contentless_delete=1,
      tokenize='porter unicode61 remove_diacritics 2'
    );
  `);
}

/**
 * Drops a knowledge base's full-text table (and its shadow tables), if it exists.
 *
 * @example
 * dropKnowledgeBaseTables(db, 3);
 */
export function dropKnowledgeBaseTables(db: Database.Database, kbId: number): void {
  db.exec(`DROP TABLE IF EXISTS ${ftsTable(kbId)}`);
}
