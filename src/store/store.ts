import type { EmbedderInfo } from '../embed/embedder.ts';

/**
 * The storage interface that ingestion and retrieval depend on. `sqlite.ts` implements it with
 * better-sqlite3 + sqlite-vec + FTS5; a PostgreSQL + pgvector backend can implement the same contract.
 *
 * Contracts every backend keeps:
 * - `replaceDocument` is atomic: readers see the old version of a document or the new one, never a mix,
 *   and a crash leaves the old one.
 * - Full-text search segments CJK text the same way for indexing and querying (see `src/text/segment.ts`).
 * - Vector distances are cosine distances (0 = same direction, 2 = opposite).
 */
export interface Store {
  listKnowledgeBases(): KnowledgeBase[];
  getKnowledgeBase(name: string): KnowledgeBase | undefined;
  /** Creates an empty knowledge base; throws if `name` exists. */
  createKnowledgeBase(name: string, embedder: EmbedderInfo, settings: KnowledgeBaseSettings): KnowledgeBase;
  /** Removes a knowledge base with all its documents, chunks and vectors. No-op if absent. */
  deleteKnowledgeBase(name: string): void;
  /**
   * Atomically deletes knowledge base `name` (if it exists) and gives its name and `settings` to the
   * knowledge base `replacement`, which must exist: readers see the old contents or the new, never none
   * (`ingest --rebuild` builds beside the old knowledge base, then swaps).
   */
  replaceKnowledgeBase(name: string, replacement: string, settings: KnowledgeBaseSettings): void;
  updateKnowledgeBaseSettings(kbId: number, settings: KnowledgeBaseSettings): void;

  listDocuments(kbId: number): DocumentRecord[];
  /** Vectors already stored in this knowledge base for chunk texts with these hashes (for reuse). */
  vectorsByTextHash(kbId: number, textHashes: readonly string[]): Map<string, Float32Array>;
  /** Inserts or replaces the document at `doc.path` with exactly these chunks, in one transaction. */
  replaceDocument(kbId: number, doc: NewDocument, chunks: readonly NewChunk[]): DocumentRecord;
  /** Records a new size/mtime for a document whose content hash did not change. */
  touchDocument(kbId: number, path: string, size: number, mtimeMs: number): void;
  deleteDocument(kbId: number, path: string): void;

  /**
   * Nearest chunks by cosine distance, closest first. The distances are exact; the set may be
   * approximate in large knowledge bases (the SQLite backend is exact up to 400 chunks and re-scores
   * binary-quantised candidates above that; see `src/store/vector-search.ts`).
   */
  searchVector(kbId: number, vector: Float32Array, k: number): VectorHit[];
  /**
   * BM25 over the chunks' text and heading, best first. `query` is raw user text; the store segments it.
   * A backend may leave out the query's most frequent terms to bound the cost (see
   * `src/store/text-search.ts`).
   */
  searchText(kbId: number, query: string, k: number): TextHit[];
  /** Chunks with their document's path and title, in the order of `ids` (unknown ids are left out). */
  getChunks(ids: readonly number[]): ChunkRecord[];
  stats(kbId: number): { documents: number; chunks: number; tokens: number };

  /**
   * Reorganises a knowledge base's indexes after a batch of writes (ingest calls it at the end of every
   * run): for faster searches, and to put search statistics right where deletes have skewed them (the
   * only way it may change results). Does nothing where nothing is due.
   */
  optimize(kbId: number): void;
  /** Throws if the database cannot answer a trivial query (for `/ready`). */
  ping(): void;
  close(): void;
}

/**
 * Knowledge base names: 1 to 64 letters, digits, `_`, `.` or `-`, starting with a letter or digit. They
 * appear in URLs, log lines and file names, so nothing else is allowed.
 */
export const KNOWLEDGE_BASE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * What is wrong with `name` as a knowledge base name, in words that say what to use; undefined if nothing.
 *
 * @example
 * knowledgeBaseNameProblem('hr docs') // 'invalid knowledge base name "hr docs": use 1 to 64 letters, …'
 */
export function knowledgeBaseNameProblem(name: string): string | undefined {
  if (KNOWLEDGE_BASE_NAME.test(name)) return undefined;
  return (
    `invalid knowledge base name "${name}": use 1 to 64 letters, digits, "_", "." or "-", ` +
    `starting with a letter or digit`
  );
}

/** Whatever produced the chunks, recorded so a change of chunking settings re-chunks every document. */
export type KnowledgeBaseSettings = Record<string, string | number | boolean>;

export interface KnowledgeBase {
  id: number;
  name: string;
  embedder: EmbedderInfo;
  settings: KnowledgeBaseSettings;
  /** Increases on every change to the knowledge base's content; caches key on it. */
  revision: number;
  createdAt: string;
  updatedAt: string;
}

export interface NewDocument {
  /** Path relative to the ingested directory, with `/` separators. Unique within a knowledge base. */
  path: string;
  title: string;
  /** sha256 hex of the file's bytes. */
  hash: string;
  size: number;
  mtimeMs: number;
  /** The loader's format name: `markdown`, `text`, `html`, `pdf`, `docx`. */
  format: string;
  metadata: Record<string, string | number | boolean>;
}

export interface DocumentRecord extends NewDocument {
  id: number;
  chunkCount: number;
  updatedAt: string;
}

export interface NewChunk {
  /** 0-based position in the document. */
  ordinal: number;
  /** Heading path joined with ` > `; empty when the chunk precedes any heading. */
  heading: string;
  /** The chunk's body (without the heading prefix). */
  text: string;
  /** Tokens of the text that was embedded (heading prefix + body). */
  tokenCount: number;
  /** 1-based page for paged formats. */
  page?: number;
  /** sha256 hex of the embedded text, the key for embedding reuse. */
  textHash: string;
  vector: Float32Array;
}

export interface ChunkRecord {
  id: number;
  documentId: number;
  ordinal: number;
  heading: string;
  text: string;
  tokenCount: number;
  page: number | null;
  textHash: string;
  path: string;
  title: string;
}

export interface VectorHit {
  chunkId: number;
  /** Cosine distance. */
  distance: number;
}

export interface TextHit {
  chunkId: number;
  /** BM25 relevance, higher is better (FTS5's rank negated). */
  score: number;
}
