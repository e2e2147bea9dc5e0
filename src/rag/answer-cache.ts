import type { AskResponse } from '../shared/protocol.ts';

/**
 * Answers kept in memory by everything that decides them: knowledge base and its revision, normalised
 * question, model, temperature, number of sources and answering mode. The revision is read from the store
 * on every request, so any change to the knowledge base (an ingest in another process included) makes old
 * entries unreachable; they then age out or are evicted as least recently used.
 *
 * In memory rather than in the database: a hit must cost microseconds on the hot path, and entries are
 * cheap to lose at a restart.
 */

/** What an answer depends on; every field is part of the key. */
export interface AnswerCacheKey {
  kbId: number;
  revision: number;
  /** Already normalised (`normalizeQuestion`). */
  question: string;
  model: string;
  temperature: number;
  topK: number;
  mode: 'llm' | 'extractive';
}

export interface AnswerCache {
  get(key: AnswerCacheKey): AskResponse | undefined;
  set(key: AnswerCacheKey, response: AskResponse): void;
  /** Entries held now (expired ones included until they are next looked up or evicted). */
  readonly size: number;
}

export interface AnswerCacheOptions {
  /** Longest an entry is served, in seconds (`CACHE_TTL_SECONDS`). */
  ttlSeconds: number;
  /** Most entries held (`CACHE_MAX_ENTRIES`). */
  maxEntries: number;
  /** Milliseconds clock; default `Date.now` (tests pass their own). */
  now?: () => number;
}

interface Entry {
  response: AskResponse;
  expires: number;
}

function keyString(key: AnswerCacheKey): string {
  // JSON of a fixed-order array: unambiguous whatever characters the question holds.
  return JSON.stringify([
    key.kbId,
    key.revision,
    key.mode,
    key.model,
    key.temperature,
    key.topK,
    key.question,
  ]);
}

/**
 * An LRU cache with a time to live. A `Map` keeps insertion order, so re-inserting on a hit makes the first
 * key the least recently used one.
 *
 * @example
 * const cache = createAnswerCache({ ttlSeconds: 3600, maxEntries: 1000 });
 * cache.set(key, response);
 * cache.get(key); // response, until the hour is over or the knowledge base's revision changes
 */
export function createAnswerCache(options: AnswerCacheOptions): AnswerCache {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlSeconds * 1000;
  const entries = new Map<string, Entry>();
  return {
    get(key) {
      const k = keyString(key);
      const entry = entries.get(k);
      if (!entry) return undefined;
      entries.delete(k);
      if (entry.expires <= now()) return undefined;
      entries.set(k, entry);
      return entry.response;
    },
    set(key, response) {
      const k = keyString(key);
      entries.delete(k);
      entries.set(k, { response, expires: now() + ttlMs });
      while (entries.size > options.maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
    },
    get size() {
      return entries.size;
    },
  };
}
