import type { ChunkRecord, DocumentRecord, KnowledgeBase, KnowledgeBaseSettings } from './store.ts';

/**
 * Conversions between the SQLite store's rows and the `Store` records, and between vectors and the
 * blobs sqlite-vec stores (little-endian float32, which is what a Float32Array holds on every platform
 * Node supports).
 */

/** A `knowledge_bases` row as better-sqlite3 returns it. */
export interface KnowledgeBaseRow {
  id: number;
  name: string;
  embedder_provider: string;
  embedder_model: string;
  embedder_dimensions: number;
  settings: string;
  revision: number;
  document_count: number;
  chunk_count: number;
  token_count: number;
  /** Chunks deleted from the full-text index since it was last rebuilt (see migration 6). */
  text_deletes: number;
  created_at: string;
  updated_at: string;
}

/** A `documents` row plus its chunk count (`chunk_count`, computed by the query). */
export interface DocumentRow {
  id: number;
  path: string;
  title: string;
  hash: string;
  size: number;
  mtime_ms: number;
  format: string;
  metadata: string;
  updated_at: string;
  chunk_count: number;
}

/** A `chunks` row joined with its document's path and title. */
export interface ChunkRow {
  id: number;
  document_id: number;
  ordinal: number;
  heading: string;
  text: string;
  token_count: number;
  page: number | null;
  text_hash: string;
  path: string;
  title: string;
}

/**
 * The record of a knowledge base row (settings parsed from JSON).
 *
 * @example
 * knowledgeBaseFromRow(db.prepare('SELECT * FROM knowledge_bases WHERE id = ?').get(1) as KnowledgeBaseRow)
 */
export function knowledgeBaseFromRow(row: KnowledgeBaseRow): KnowledgeBase {
  return {
    id: row.id,
    name: row.name,
    embedder: {
      provider: row.embedder_provider,
      model: row.embedder_model,
      dimensions: row.embedder_dimensions,
    },
    settings: JSON.parse(row.settings) as KnowledgeBaseSettings,
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The record of a document row (metadata parsed from JSON).
 *
 * @example
 * documentFromRow({ id: 1, path: 'a.md', ..., metadata: '{}', chunk_count: 3 }).chunkCount // 3
 */
export function documentFromRow(row: DocumentRow): DocumentRecord {
  return {
    id: row.id,
    path: row.path,
    title: row.title,
    hash: row.hash,
    size: row.size,
    mtimeMs: row.mtime_ms,
    format: row.format,
    metadata: JSON.parse(row.metadata) as DocumentRecord['metadata'],
    updatedAt: row.updated_at,
    chunkCount: row.chunk_count,
  };
}

/**
 * The record of a chunk row, camel-cased.
 *
 * @example
 * chunkFromRow(row).textHash === row.text_hash
 */
export function chunkFromRow(row: ChunkRow): ChunkRecord {
  return {
    id: row.id,
    documentId: row.document_id,
    ordinal: row.ordinal,
    heading: row.heading,
    text: row.text,
    tokenCount: row.token_count,
    page: row.page,
    textHash: row.text_hash,
    path: row.path,
    title: row.title,
  };
}

/**
 * A view of the vector's bytes for binding (no copy; respects `subarray` offsets).
 *
 * @example
 * stmt.run(BigInt(id), vectorToBlob(vector));
 */
export function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/**
 * A Float32Array owning a copy of the blob's bytes. Copied because a Buffer may start at an offset
 * that is not a multiple of 4, which a Float32Array view cannot.
 *
 * @example
 * blobToVector(row.embedding as Buffer).length // the knowledge base's dimensions
 */
export function blobToVector(blob: Buffer): Float32Array {
  const vector = new Float32Array(blob.byteLength / 4);
  new Uint8Array(vector.buffer).set(blob);
  return vector;
}
