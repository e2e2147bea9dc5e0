import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import type { EmbedderInfo } from '../embed/embedder.ts';
import { AppError, InvalidRequestError, NotFoundError } from '../errors.ts';
import { ChunkCache } from './chunk-cache.ts';
import { checkVector, rebuildTextIndex, removeDocument, writeDocument } from './document-writer.ts';
import { createKnowledgeBaseTables, dropKnowledgeBaseTables, ftsTable } from './kb-tables.ts';
import { assertSchemaCurrent, migrate } from './migrations.ts';
import {
  blobToVector,
  chunkFromRow,
  documentFromRow,
  knowledgeBaseFromRow,
  type ChunkRow,
  type DocumentRow,
  type KnowledgeBaseRow,
} from './rows.ts';
import { StatementCache } from './statements.ts';
import {
  knowledgeBaseNameProblem,
  type ChunkRecord,
  type DocumentRecord,
  type KnowledgeBase,
  type KnowledgeBaseSettings,
  type NewChunk,
  type NewDocument,
  type Store,
  type TextHit,
  type VectorHit,
} from './store.ts';
import { TextSearch } from './text-search.ts';
import { VectorSearch } from './vector-search.ts';

/** Knowledge base names: they appear in URLs and CLI flags, so no spaces, slashes or leading dots. */

/** How long a statement waits for another process's write lock (the ingest CLI) before failing. */
const BUSY_TIMEOUT_MS = 5000;
/**
 * Bytes of the database file read through a memory map instead of read() calls. A vector search reads
 * hundreds of random rows (one page each) to re-score its candidates; mapped, the 400 of a search at 100k
 * chunks took ~0.6 ms less (~2.0 → ~1.4 ms). The mapped pages are the OS's page cache, shared and
 * reclaimable, but they count in the process's RSS once touched.
 */
const MMAP_BYTES = 1 << 30;
/**
 * `optimize` rebuilds a knowledge base's full-text index once this share of its chunks has been deleted
 * from it since the last rebuild: past that, BM25's statistics (which still count deleted rows) have
 * drifted enough to change rankings (SciFact recall@10 0.8281 fresh, 0.8213 after every chunk was
 * replaced once). Rebuilding costs about what indexing the chunks first did.
 */
const TEXT_REBUILD_SHARE = 0.1;
/** Knowledge bases up to this many chunks get their full-text index merged by `optimize` (~0.2 s at most). */
const OPTIMIZE_MAX_CHUNKS = 20_000;

export interface SqliteStoreOptions {
  /** Open without write access; the schema must already be current. Default `false`. */
  readonly?: boolean;
}

/**
 * Opens (creating if needed, parent directory included) the service's SQLite database, loads sqlite-vec
 * and migrates the schema. `:memory:` gives a private in-memory database. Other SQLite-backed stores of the
 * service (keys, conversations, ...) are built over the same connection; `openSqliteStore` is the usual
 * way to get the knowledge-base `Store`.
 *
 * Connection settings: WAL (readers never block the writer or each other), `synchronous=NORMAL` (durable
 * at checkpoints; a power cut loses at most the last transactions, never consistency), foreign keys on,
 * `busy_timeout` 5 s. Writes use `BEGIN IMMEDIATE` so two writers queue on the busy timeout instead of
 * failing on a lock upgrade.
 *
 * @example
 * const db = openSqliteDatabase('data/kb.sqlite');
 * const store = sqliteStore(db);
 */
export function openSqliteDatabase(file: string, options: SqliteStoreOptions = {}): Database.Database {
  const readonly = options.readonly ?? false;
  const inMemory = file === ':memory:';
  if (!inMemory && readonly && !fs.existsSync(file)) {
    throw new Error(`the database ${file} does not exist; ingest a folder first`);
  }
  if (!inMemory && !readonly) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });

  const db = new Database(file, { readonly });
  try {
    sqliteVec.load(db);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma(`mmap_size = ${MMAP_BYTES}`);
    db.pragma('foreign_keys = ON');
    if (readonly) {
      assertSchemaCurrent(db);
    } else {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
    }
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * The knowledge-base `Store` over an open database (see `openSqliteDatabase`). Its `close()` closes the
 * connection.
 */
export function sqliteStore(db: Database.Database): Store {
  return new SqliteStore(db);
}

/**
 * Opens the database and returns its knowledge-base `Store`.
 *
 * @example
 * const store = openSqliteStore('data/kb.sqlite');
 * const kb = store.createKnowledgeBase('docs', { provider: 'local', model: 'hash-v1', dimensions: 384 }, {});
 * store.close();
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): Store {
  return sqliteStore(openSqliteDatabase(file, options));
}

/** The `Store` over one better-sqlite3 connection; see `migrations.ts` for the schema. */
class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #statements: StatementCache;
  readonly #vectors: VectorSearch;
  readonly #text: TextSearch;
  readonly #chunks: ChunkCache;
  /** Knowledge bases whose search state this connection may hold (see `#noteSearched`). */
  readonly #searched = new Set<number>();

  constructor(db: Database.Database) {
    this.#db = db;
    this.#statements = new StatementCache(db);
    this.#vectors = new VectorSearch(db);
    this.#text = new TextSearch(this.#statements);
    this.#chunks = new ChunkCache(db);
  }

  #stmt(sql: string): Database.Statement {
    return this.#statements.get(sql);
  }

  #write<T>(fn: () => T): T {
    try {
      return this.#db.transaction(fn).immediate();
    } finally {
      this.#chunks.clear();
    }
  }

  #kbRow(kbId: number): KnowledgeBaseRow {
    const row = this.#stmt('SELECT * FROM knowledge_bases WHERE id = ?').get(kbId) as
      KnowledgeBaseRow | undefined;
    if (!row) throw new NotFoundError(`knowledge base #${kbId} does not exist`);
    return row;
  }

  listKnowledgeBases(): KnowledgeBase[] {
    const rows = this.#stmt('SELECT * FROM knowledge_bases ORDER BY name').all() as KnowledgeBaseRow[];
    return rows.map(knowledgeBaseFromRow);
  }

  getKnowledgeBase(name: string): KnowledgeBase | undefined {
    const row = this.#stmt('SELECT * FROM knowledge_bases WHERE name = ?').get(name) as
      KnowledgeBaseRow | undefined;
    return row && knowledgeBaseFromRow(row);
  }

  createKnowledgeBase(name: string, embedder: EmbedderInfo, settings: KnowledgeBaseSettings): KnowledgeBase {
    const nameProblem = knowledgeBaseNameProblem(name);
    if (nameProblem) throw new InvalidRequestError(nameProblem);
    if (!Number.isSafeInteger(embedder.dimensions) || embedder.dimensions <= 0) {
      throw new Error(
        `invalid embedding dimensions ${embedder.dimensions} for ${embedder.provider}/${embedder.model}`,
      );
    }
    return this.#write(() => {
      if (this.getKnowledgeBase(name)) {
        throw new AppError(409, 'knowledge_base_exists', `knowledge base "${name}" already exists`);
      }
      const time = new Date().toISOString();
      const row = this.#stmt(
        `INSERT INTO knowledge_bases
           (name, embedder_provider, embedder_model, embedder_dimensions, settings, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      ).get(
        name,
        embedder.provider,
        embedder.model,
        embedder.dimensions,
        JSON.stringify(settings),
        time,
        time,
      ) as KnowledgeBaseRow;
      createKnowledgeBaseTables(this.#db, row.id);
      return knowledgeBaseFromRow(row);
    });
  }

  deleteKnowledgeBase(name: string): void {
    const id = this.#write(() => this.#drop(name));
    if (id !== undefined) this.#forget(id);
  }

  replaceKnowledgeBase(name: string, replacement: string, settings: KnowledgeBaseSettings): void {
    const id = this.#write(() => {
      const next = this.getKnowledgeBase(replacement);
      if (!next) throw new NotFoundError(`knowledge base "${replacement}" does not exist`);
      const dropped = this.#drop(name);
      // A new revision too: caches keyed on the name's revision must not serve the replaced contents.
      this.#stmt(
        'UPDATE knowledge_bases SET name = ?, settings = ?, revision = revision + 1, updated_at = ? WHERE id = ?',
      ).run(name, JSON.stringify(settings), new Date().toISOString(), next.id);
      return dropped;
    });
    if (id !== undefined) this.#forget(id);
  }

  /** Deletes knowledge base `name` inside the caller's transaction; returns its id, if it existed. */
  #drop(name: string): number | undefined {
    const kb = this.getKnowledgeBase(name);
    if (!kb) return undefined;
    dropKnowledgeBaseTables(this.#db, kb.id);
    // Cascades to documents, chunks, chunk_vectors and chunk_codes.
    this.#stmt('DELETE FROM knowledge_bases WHERE id = ?').run(kb.id);
    return kb.id;
  }

  /**
   * Records that this connection keeps search state (indexes, term counts) for `id`. A knowledge base
   * searched for the first time may have replaced another (`ingest --rebuild`, from another process,
   * swaps a new id in under the old name): the state of ids that are gone is dropped then, so a
   * long-running server does not keep it.
   */
  #noteSearched(id: number): void {
    if (this.#searched.has(id)) return;
    const live = new Set(this.#stmt('SELECT id FROM knowledge_bases').pluck().all() as number[]);
    for (const old of this.#searched) {
      if (live.has(old)) continue;
      this.#forget(old);
      this.#searched.delete(old);
    }
    this.#searched.add(id);
  }

  /** Drops what this connection keeps about a deleted knowledge base. */
  #forget(id: number): void {
    this.#vectors.forget(id);
    this.#text.forget(id);
    this.#statements.evict(ftsTable(id));
  }

  updateKnowledgeBaseSettings(kbId: number, settings: KnowledgeBaseSettings): void {
    // Settings describe how chunks were made, not content: the revision changes when the documents do.
    const result = this.#stmt('UPDATE knowledge_bases SET settings = ?, updated_at = ? WHERE id = ?').run(
      JSON.stringify(settings),
      new Date().toISOString(),
      kbId,
    );
    if (result.changes === 0) throw new NotFoundError(`knowledge base #${kbId} does not exist`);
  }

  listDocuments(kbId: number): DocumentRecord[] {
    const rows = this.#stmt(
      `SELECT d.*, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) AS chunk_count
       FROM documents d WHERE d.kb_id = ? ORDER BY d.path`,
    ).all(kbId) as DocumentRow[];
    return rows.map(documentFromRow);
  }

  vectorsByTextHash(kbId: number, textHashes: readonly string[]): Map<string, Float32Array> {
    const vectors = new Map<string, Float32Array>();
    if (textHashes.length === 0) return vectors;
    // One bound JSON array instead of an IN list: no variable limit however many hashes, one cached
    // statement. Several chunks may share a hash (and so a vector): GROUP BY keeps one of them.
    const rows = this.#stmt(
      `SELECT c.text_hash AS hash, v.embedding FROM chunks c JOIN chunk_vectors v ON v.chunk_id = c.id
       WHERE c.kb_id = ? AND c.text_hash IN (SELECT value FROM json_each(?)) GROUP BY c.text_hash`,
    ).all(kbId, JSON.stringify(textHashes)) as { hash: string; embedding: Buffer }[];
    for (const { hash, embedding } of rows) vectors.set(hash, blobToVector(embedding));
    return vectors;
  }

  replaceDocument(kbId: number, doc: NewDocument, chunks: readonly NewChunk[]): DocumentRecord {
    return this.#write(() => writeDocument(this.#statements, this.#kbRow(kbId), doc, chunks));
  }

  touchDocument(kbId: number, path: string, size: number, mtimeMs: number): void {
    // Same content, so no revision bump: caches stay valid.
    this.#stmt('UPDATE documents SET size = ?, mtime_ms = ? WHERE kb_id = ? AND path = ?').run(
      size,
      mtimeMs,
      kbId,
      path,
    );
  }

  deleteDocument(kbId: number, path: string): void {
    this.#write(() => removeDocument(this.#statements, kbId, path));
  }

  searchVector(kbId: number, vector: Float32Array, k: number): VectorHit[] {
    const kb = this.#kbRow(kbId);
    this.#noteSearched(kb.id);
    checkVector(kb, vector, 'the query vector');
    const limit = Math.floor(k);
    return limit > 0 ? this.#vectors.search(kb, vector, limit) : [];
  }

  searchText(kbId: number, query: string, k: number): TextHit[] {
    const limit = Math.floor(k);
    if (limit <= 0) return [];
    const kb = this.#kbRow(kbId);
    this.#noteSearched(kb.id);
    return this.#text.search({ id: kb.id, revision: kb.revision, chunkCount: kb.chunk_count }, query, limit);
  }

  getChunks(ids: readonly number[]): ChunkRecord[] {
    if (ids.length === 0) return [];
    return this.#chunks.get(ids, (missing) => this.#readChunks(missing));
  }

  #readChunks(ids: readonly number[]): ChunkRecord[] {
    const rows = this.#stmt(
      `SELECT c.id, c.document_id, c.ordinal, c.heading, c.text, c.token_count, c.page, c.text_hash,
              d.path, d.title
       FROM chunks c JOIN documents d ON d.id = c.document_id
       WHERE c.id IN (SELECT value FROM json_each(?))`,
    ).all(JSON.stringify(ids)) as ChunkRow[];
    return rows.map(chunkFromRow);
  }

  stats(kbId: number): { documents: number; chunks: number; tokens: number } {
    const kb = this.#kbRow(kbId);
    return { documents: kb.document_count, chunks: kb.chunk_count, tokens: kb.token_count };
  }

  /**
   * Merges the knowledge base's full-text index into one segment when it is small enough for that to be
   * quick. FTS5 adds a segment per transaction (one per document) and merges them only in part, and a
   * query looks up each term in every segment: on the 168-chunk sample guide that fixed cost was most of
   * a search (p50 ~0.37 → ~0.12 ms after merging). At 100k chunks a merge takes ~1.4 s and gains nothing
   * measurable (the postings dominate), so larger knowledge bases are left to FTS5's own merging.
   */
  optimize(kbId: number): void {
    const kb = this.#kbRow(kbId);
    if (kb.text_deletes > kb.chunk_count * TEXT_REBUILD_SHARE) {
      this.#write(() => rebuildTextIndex(this.#db, this.#statements, kbId));
      // Statements and term counts of the table before.
      this.#statements.evict(ftsTable(kbId));
      this.#text.forget(kbId);
    }
    if (kb.chunk_count > OPTIMIZE_MAX_CHUNKS) return;
    const table = ftsTable(kbId);
    this.#write(() => this.#stmt(`INSERT INTO ${table} (${table}) VALUES ('optimize')`).run());
  }

  ping(): void {
    this.#stmt('SELECT 1').get();
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
