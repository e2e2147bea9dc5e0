import type { ApiKeyRecord, NewApiKey } from './api-key.ts';

/**
 * Storage of API keys, request counters and usage, behind an interface a PostgreSQL backend can
 * implement (`src/store/sqlite-access.ts` is the SQLite one, over the knowledge bases' connection).
 *
 * Contracts every backend keeps:
 * - Only hashes of secrets are stored.
 * - `consume` is atomic across processes: it checks every limit and, only when all pass, counts the request
 *   against each of them (and in the key's usage), so concurrent requests can never overshoot a limit and
 *   refused requests use up nothing.
 * - Counters live in the database, so limits survive a restart and hold across processes.
 */
export interface AccessStore {
  /** Stores a key; throws `AppError` 409 `key_exists` if the name is taken (revoked keys keep theirs). */
  createKey(key: NewApiKey): ApiKeyRecord;
  /** Every key, revoked ones included, by name. */
  listKeys(): ApiKeyRecord[];
  getKey(name: string): ApiKeyRecord | undefined;
  /** The key with this secret hash, revoked or not. */
  findKeyByHash(hash: string): ApiKeyRecord | undefined;
  /** Marks a key revoked; false when no active key has this name. */
  revokeKey(name: string, at: Date): boolean;
  /** Whether any key was ever created (revoked ones count: revoking the last key must not open the service). */
  hasKeys(): boolean;
  /**
   * Counts one request against every limit if none is used up; else counts nothing and returns the first
   * limit that is. `usage` adds the request to that key's usage of that day.
   */
  consume(limits: readonly RateLimit[], usage?: { keyId: number; day: string }): RateLimit | undefined;
  /** Adds tokens to a key's usage of a day (after its answer is complete). */
  addTokens(keyId: number, day: string, promptTokens: number, completionTokens: number): void;
  /** Usage per key and day, newest day first, then by key name. */
  usage(filter: UsageFilter): UsageRow[];
}

/** One counter: at most `limit` requests for `subject` in the window that started at `windowStart`. */
export interface RateLimit {
  /** Who is counted: `key:<id>`, `ip:<address>`, `key:<id>@<address>`. */
  subject: string;
  period: 'minute' | 'day';
  /** Start of the current window, in ms since the epoch; a counter from an older window starts again at 0. */
  windowStart: number;
  limit: number;
}

export interface UsageFilter {
  /** One key's usage; default every key's. */
  keyName?: string;
  /** First and last UTC day (`YYYY-MM-DD`), inclusive. */
  from: string;
  to: string;
}

export interface UsageRow {
  key: string;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
}
