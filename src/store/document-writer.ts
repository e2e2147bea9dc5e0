import { segmentForIndex } from '../text/segment.ts';
import { binaryCode } from './binary-index.ts';
import { createKnowledgeBaseTables, dropKnowledgeBaseTables, ftsTable } from './kb-tables.ts';
import { documentFromRow, vectorToBlob, type DocumentRow, type KnowledgeBaseRow } from './rows.ts';
import type Database from 'better-sqlite3';
import type { StatementCache } from './statements.ts';
import type { DocumentRecord, NewChunk, NewDocument } from './store.ts';

/**
 * The SQLite store's document writes. Each function must run inside the caller's write transaction:
 * a chunk lives in four places (`chunks`, `chunk_vectors`, `chunk_codes`, `fts_<kb>`) and the knowledge
 * base row carries its revision and counts, and all of them change together or not at all.
 */

interface Removed {
  chunks: number;
  tokens: number;
}

/**
 * Throws unless `vector` has the knowledge base's dimensions: vectors of another length come from
 * another embedder and cannot be compared.
 *
 * @example
 * checkVector(kbRow, queryVector, 'the query vector');
 */
export function checkVector(kb: KnowledgeBaseRow, vector: Float32Array, what: string): void {
  if (vector.length !== kb.embedder_dimensions) {
    throw new Error(
      `${what} has ${vector.length} dimensions, but knowledge base "${kb.name}" stores ` +
        `${kb.embedder_dimensions}-dimensional vectors (${kb.embedder_provider}/${kb.embedder_model})`,
    );
  }
}

/** Deletes a document's chunks from all four places (`chunk_vectors` by cascade). */
function removeChunks(statements: StatementCache, kbId: number, documentId: number): Removed {
  const ids = statements
    .get('SELECT id FROM chunks WHERE document_id = ?')
    .pluck()
    .all(documentId) as number[];
  const removed = statements
    .get(
      'SELECT count(*) AS chunks, coalesce(sum(token_count), 0) AS tokens FROM chunks WHERE document_id = ?',
    )
    .get(documentId) as Removed;
  const deleteText = statements.get(`DELETE FROM ${ftsTable(kbId)} WHERE rowid = ?`);
  const deleteCode = statements.get('DELETE FROM chunk_codes WHERE kb_id = ? AND chunk_id = ?');
  for (const id of ids) {
    deleteText.run(id);
    deleteCode.run(kbId, id);
  }
  statements.get('DELETE FROM chunks WHERE document_id = ?').run(documentId);
  return removed;
}

/** Counts a change of a knowledge base's contents: its new revision, its totals, its full-text deletes. */
function recordChange(
  statements: StatementCache,
  kbId: number,
  change: { documents: number; chunks: number; tokens: number; removed: Removed },
) {
  statements
    .get(
      `UPDATE knowledge_bases SET revision = revision + 1, updated_at = ?, document_count = document_count + ?,
         chunk_count = chunk_count + ?, token_count = token_count + ?, text_deletes = text_deletes + ?
       WHERE id = ?`,
    )
    .run(
      new Date().toISOString(),
      change.documents,
      change.chunks - change.removed.chunks,
      change.tokens - change.removed.tokens,
      change.removed.chunks,
      kbId,
    );
}

function documentId(statements: StatementCache, kbId: number, path: string): number | undefined {
  return statements.get('SELECT id FROM documents WHERE kb_id = ? AND path = ?').pluck().get(kbId, path) as
    number | undefined;
}

/**
 * Inserts or replaces the document at `doc.path` with exactly `chunks`; its id survives a replace.
 *
 * @example
 * db.transaction(() => writeDocument(statements, kbRow, doc, chunks)).immediate();
 */
export function writeDocument(
  statements: StatementCache,
  kb: KnowledgeBaseRow,
  doc: NewDocument,
  chunks: readonly NewChunk[],
): DocumentRecord {
  for (const chunk of chunks)
    checkVector(kb, chunk.vector, `the vector of chunk ${chunk.ordinal} of ${doc.path}`);
  const oldId = documentId(statements, kb.id, doc.path);
  const removed = oldId === undefined ? { chunks: 0, tokens: 0 } : removeChunks(statements, kb.id, oldId);

  const row = statements
    .get(
      `INSERT INTO documents (kb_id, path, title, hash, size, mtime_ms, format, metadata, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kb_id, path) DO UPDATE SET
         title = excluded.title, hash = excluded.hash, size = excluded.size, mtime_ms = excluded.mtime_ms,
         format = excluded.format, metadata = excluded.metadata, updated_at = excluded.updated_at
       RETURNING *, ? AS chunk_count`,
    )
    .get(
      kb.id,
      doc.path,
      doc.title,
      doc.hash,
      doc.size,
      doc.mtimeMs,
      doc.format,
      JSON.stringify(doc.metadata),
      new Date().toISOString(),
      chunks.length,
    ) as DocumentRow;

  const insertChunk = statements
    .get(
      `INSERT INTO chunks (kb_id, document_id, ordinal, heading, text, token_count, page, text_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    )
    .pluck();
  const insertVector = statements.get('INSERT INTO chunk_vectors (chunk_id, embedding) VALUES (?, ?)');
  const insertCode = statements.get('INSERT INTO chunk_codes (kb_id, chunk_id, code) VALUES (?, ?, ?)');
  const insertText = statements.get(`INSERT INTO ${ftsTable(kb.id)} (rowid, heading, text) VALUES (?, ?, ?)`);
  let tokens = 0;
  const ids: number[] = [];
  for (const chunk of chunks) {
    const id = insertChunk.get(
      kb.id,
      row.id,
      chunk.ordinal,
      chunk.heading,
      chunk.text,
      chunk.tokenCount,
      chunk.page ?? null,
      chunk.textHash,
    ) as number;
    insertVector.run(id, vectorToBlob(chunk.vector));
    insertCode.run(kb.id, id, binaryCode(chunk.vector));
    ids.push(id);
    tokens += chunk.tokenCount;
  }
  recordChange(statements, kb.id, {
    documents: oldId === undefined ? 1 : 0,
    chunks: chunks.length,
    tokens,
    removed,
  });
  // The full-text rows last: FTS5 writes the terms it holds in memory to a new index segment whenever a
  // later statement of the transaction opens a statement savepoint (an INSERT ... RETURNING, an UPDATE),
  // so interleaved with the other inserts it wrote one segment per chunk, and each chunk insert after it
  // cost ~70 instead of ~10 µs. Last, they are written once, at commit.
  chunks.forEach((chunk, i) => {
    insertText.run(ids[i]!, segmentForIndex(chunk.heading), segmentForIndex(chunk.text));
  });
  return documentFromRow(row);
}

/**
 * Deletes the document at `path` and its chunks; returns false (changing nothing) if there is none.
 *
 * @example
 * db.transaction(() => removeDocument(statements, kbId, 'guide/old.md')).immediate();
 */
export function removeDocument(statements: StatementCache, kbId: number, path: string): boolean {
  const id = documentId(statements, kbId, path);
  if (id === undefined) return false;
  const removed = removeChunks(statements, kbId, id);
  statements.get('DELETE FROM documents WHERE id = ?').run(id);
  recordChange(statements, kbId, { documents: -1, chunks: 0, tokens: 0, removed });
  return true;
}

/** Chunks read per statement while rebuilding a full-text index. */
const REBUILD_BATCH = 2000;

/**
 * Rebuilds knowledge base `kbId`'s full-text index from its chunks, which puts BM25's statistics right
 * again: a contentless-delete FTS5 table keeps every deleted row in its row count and token totals (see
 * migration 6). Inside the caller's write transaction; readers see the old index until it commits.
 *
 * @example
 * db.transaction(() => rebuildTextIndex(db, statements, kbId)).immediate();
 */
export function rebuildTextIndex(db: Database.Database, statements: StatementCache, kbId: number): void {
  dropKnowledgeBaseTables(db, kbId);
  createKnowledgeBaseTables(db, kbId);
  const insertText = db.prepare(`INSERT INTO ${ftsTable(kbId)} (rowid, heading, text) VALUES (?, ?, ?)`);
  const batch = statements.get(
    'SELECT id, heading, text FROM chunks WHERE kb_id = ? AND id > ? ORDER BY id LIMIT ?',
  );
  for (let after = 0; ;) {
    const rows = batch.all(kbId, after, REBUILD_BATCH) as { id: number; heading: string; text: string }[];
    for (const row of rows) insertText.run(row.id, segmentForIndex(row.heading), segmentForIndex(row.text));
    if (rows.length < REBUILD_BATCH) break;
    after = rows.at(-1)!.id;
  }
  // Scores change with the statistics: caches keyed on the revision must not keep the old ones.
  statements
    .get('UPDATE knowledge_bases SET text_deletes = 0, revision = revision + 1 WHERE id = ?')
    .run(kbId);
}
