import type Database from 'better-sqlite3';
import { BinaryIndex } from './binary-index.ts';
import { vectorToBlob, type KnowledgeBaseRow } from './rows.ts';
import type { VectorHit } from './store.ts';

/**
 * Nearest-neighbour search for the SQLite store in two steps: the knowledge base's in-memory
 * `BinaryIndex` proposes candidates (the codes whose signs agree best with the query), then SQLite
 * re-scores them with exact cosine distances (sqlite-vec's `vec_distance_cosine`) over `chunk_vectors`
 * and keeps the best `k`. The returned distances are always exact. At 100k chunks of 384 dimensions
 * with 400 candidates a search takes ~2 ms of CPU: ~0.6 ms proposing, the rest reading and re-scoring
 * the candidates (a random row each, from the memory-mapped file).
 *
 * A knowledge base with at most `MIN_CANDIDATES` chunks (more below 384 dimensions) is searched
 * exactly. Above that, recall depends on the share of the chunks re-scored and on the embedder. With
 * the local hashing embedder on SciFact (5k abstracts, titles as queries), the exact top 10 was found
 * 0.98 of the time re-scoring 7.7% of the chunks (400 of 5k) and 0.88 re-scoring 2%; offline, 0.60 at
 * 0.4%, which is what 400 candidates are at 100k chunks. Clustered synthetic vectors (closer to neural
 * embedders) kept ~0.93-1.0 at 0.4%. Raising `MIN_CANDIDATES` buys recall at ~3-4 µs of CPU per
 * candidate.
 *
 * The index follows the knowledge base's `revision`: when it changes (a write by this process or by
 * another one, such as the ingest CLI), chunks added since are appended, and the index is rebuilt from
 * `chunk_codes` once more than a tenth of its codes belong to deleted chunks.
 */

/**
 * Candidates re-scored per query, at least: the knob between recall and latency described above (each
 * costs a random row read). 400 keeps vector search at ~2 ms of CPU at 100k chunks.
 */
export const MIN_CANDIDATES = 400;
/** Candidates per requested neighbour when `k` is large. */
export const OVERSAMPLING = 10;
/**
 * Codes shorter than this many bits get proportionally more candidates: fewer bits separate neighbours
 * less well (at 128 dimensions, Hamming ranking with 1000 candidates found ~0.7 of the exact top 20 of
 * clustered synthetic data, against 0.97 at 384).
 */
const FULL_CODE_BITS = 384;
/** Codes read per statement while loading, to bound the size of one result. */
const LOAD_BATCH = 8192;

interface CodeBatch {
  n: number;
  ids: string | null;
  codes: string | null;
}

/**
 * The `k` (last parameter) closest of the `chunk_vectors` rows that `filter` selects, by exact cosine
 * distance to the query (first parameter). A zero vector has no direction (cosine gives NULL): such
 * chunks are nobody's neighbours. MATERIALIZED: a flattened subquery would compute each distance twice
 * (for the filter and for the sort key); computed once, re-scoring 168 chunks took ~0.18 instead of
 * ~0.28 ms.
 */
function rescoreSql(filter: string): string {
  return `WITH scored AS MATERIALIZED (
      SELECT chunk_id AS chunkId, vec_distance_cosine(embedding, ?) AS distance FROM chunk_vectors
      WHERE ${filter})
    SELECT chunkId, distance FROM scored WHERE distance IS NOT NULL ORDER BY distance LIMIT ?`;
}

/**
 * @example
 * const search = new VectorSearch(db);
 * search.search(kbRow, queryVector, 10); // [{ chunkId, distance }, ...], closest first
 */
export class VectorSearch {
  readonly #db: Database.Database;
  readonly #indexes = new Map<number, BinaryIndex>();
  readonly #loadBatch: Database.Statement;
  readonly #state: Database.Statement;
  readonly #rescore: Database.Statement;
  readonly #rescoreRange: Database.Statement;
  readonly #minCandidates: number;

  /** `minCandidates` (default `MIN_CANDIDATES`) exists for benchmarks that trade recall for time. */
  constructor(db: Database.Database, options: { minCandidates?: number } = {}) {
    this.#db = db;
    this.#minCandidates = options.minCandidates ?? MIN_CANDIDATES;
    // Hex and comma-joined text in one row per batch: ~2x faster than one row (and one Buffer) per code.
    this.#loadBatch = db.prepare(
      `SELECT count(*) AS n, group_concat(chunk_id, ',' ORDER BY chunk_id) AS ids,
              group_concat(hex(code), '' ORDER BY chunk_id) AS codes
       FROM (SELECT chunk_id, code FROM chunk_codes WHERE kb_id = ? AND chunk_id > ? ORDER BY chunk_id LIMIT ?)`,
    );
    this.#state = db.prepare('SELECT revision, chunk_count FROM knowledge_bases WHERE id = ?');
    this.#rescore = db.prepare(rescoreSql('chunk_id IN (SELECT value FROM json_each(?))'));
    this.#rescoreRange = db.prepare(rescoreSql('chunk_id BETWEEN ? AND ?'));
  }

  /** Nearest chunks by cosine distance, closest first. `vector` must have the knowledge base's dimensions. */
  search(kb: KnowledgeBaseRow, vector: Float32Array, k: number): VectorHit[] {
    // A zero query (the local embedder's vector for text without words) is near nothing.
    if (vector.every((x) => x === 0)) return [];
    const index = this.#current(kb);
    const scale = Math.max(1, FULL_CODE_BITS / kb.embedder_dimensions);
    const count = Math.ceil(Math.max(this.#minCandidates, k * OVERSAMPLING) * scale);
    const candidates = index.nearest(vector, count);
    if (candidates.length === 0) return [];
    if (candidates.length === index.size && index.maxId - index.minId < 2 * index.size) {
      // Every chunk of a small knowledge base whose ids are mostly contiguous: one range scan reads them
      // in order (~0.2 against ~0.35 ms for 168 chunks fetched one by one); chunks of other knowledge
      // bases in the range are scored too and dropped here.
      const ours = new Set(candidates);
      // At most this many ids in the range are not ours, so the best k of ours are within k + that.
      const others = index.maxId - index.minId + 1 - index.size;
      const hits = this.#rescoreRange.all(
        vectorToBlob(vector),
        index.minId,
        index.maxId,
        k + others,
      ) as VectorHit[];
      return hits.filter((hit) => ours.has(hit.chunkId)).slice(0, k);
    }
    return this.#rescore.all(vectorToBlob(vector), JSON.stringify(candidates), k) as VectorHit[];
  }

  /** Drops a knowledge base's index (after the knowledge base is deleted). */
  forget(kbId: number): void {
    this.#indexes.delete(kbId);
  }

  /** The knowledge base's index, brought up to date if its revision moved since it was loaded. */
  #current(kb: KnowledgeBaseRow): BinaryIndex {
    const cached = this.#indexes.get(kb.id);
    if (cached?.revision === kb.revision) return cached;
    // One read transaction, so the revision, the count and the appended codes are one snapshot.
    const index = this.#db.transaction(() => {
      const state = this.#state.get(kb.id) as { revision: number; chunk_count: number } | undefined;
      let index = cached ?? new BinaryIndex(kb.embedder_dimensions);
      this.#append(index, kb.id);
      // Codes of deleted chunks stay until a rebuild; re-scoring drops them, but they take candidate slots.
      if (index.size - (state?.chunk_count ?? 0) > index.size / 10) {
        index = new BinaryIndex(kb.embedder_dimensions);
        this.#append(index, kb.id);
      }
      index.revision = state?.revision ?? kb.revision;
      return index;
    })();
    this.#indexes.set(kb.id, index);
    return index;
  }

  /** Appends the codes of chunks with ids above `index.maxId`. */
  #append(index: BinaryIndex, kbId: number): void {
    for (;;) {
      const batch = this.#loadBatch.get(kbId, index.maxId, LOAD_BATCH) as CodeBatch;
      if (batch.n === 0 || batch.ids === null || batch.codes === null) return;
      index.append(batch.ids.split(',').map(Number), Buffer.from(batch.codes, 'hex'));
      if (batch.n < LOAD_BATCH) return;
    }
  }
}
