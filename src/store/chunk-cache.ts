import type Database from 'better-sqlite3';
import type { ChunkRecord } from './store.ts';

/**
 * Recently read chunk records, so that the passages every answer loads (the same popular sections again
 * and again) are not read and joined again each time: that read was ~5% of a `/ask`'s CPU.
 *
 * Safe because a chunk never changes under its id: chunk ids are `AUTOINCREMENT` (never reused), and
 * a document edit deletes its chunks and inserts new ones. What the cache must not do is keep serving a
 * chunk that was deleted, so it is emptied whenever the database may have changed: by this connection
 * (the store calls `clear()` after each of its writes) or by another one, such as the ingest CLI
 * (`PRAGMA data_version` moves when another connection commits).
 *
 * @example
 * const cache = new ChunkCache(db);
 * cache.get([3, 7], (missing) => readChunks(missing)); // records for 3 and 7, read once
 */
export class ChunkCache {
  readonly #dataVersion: Database.Statement;
  readonly #max: number;
  #version = -1;
  #records = new Map<number, ChunkRecord>();

  /** `max` records at most (default 2048, a few MB); the least recently used go first. */
  constructor(db: Database.Database, max = 2048) {
    this.#dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.#max = max;
  }

  /**
   * The records of `ids`, in order, leaving out unknown ids; `load` reads the ones not cached (in any
   * order, unknown ids left out).
   */
  get(ids: readonly number[], load: (ids: number[]) => ChunkRecord[]): ChunkRecord[] {
    const version = this.#dataVersion.get() as number;
    if (version !== this.#version) {
      this.clear();
      this.#version = version;
    }
    const missing = ids.filter((id) => !this.#records.has(id));
    const loaded = missing.length > 0 ? new Map(load(missing).map((r) => [r.id, r])) : undefined;
    const found: ChunkRecord[] = [];
    for (const id of ids) {
      const record = this.#records.get(id) ?? loaded?.get(id);
      if (!record) continue;
      // (Re-)inserted: Map order is recency, so eviction takes the least recently used.
      this.#records.delete(id);
      this.#records.set(id, record);
      found.push(record);
    }
    // Only after collecting: evicting first could drop a record this very call asked for.
    for (const id of this.#records.keys()) {
      if (this.#records.size <= this.#max) break;
      this.#records.delete(id);
    }
    return found;
  }

  clear(): void {
    this.#records = new Map();
  }
}
