import type Database from 'better-sqlite3';
import type { AccessStore, RateLimit, UsageFilter, UsageRow } from '../access/access-store.ts';
import type { ApiKeyRecord, KeyKind, NewApiKey, Tier } from '../access/api-key.ts';
import { AppError } from '../errors.ts';
import { StatementCache } from './statements.ts';

interface KeyRow {
  id: number;
  name: string;
  prefix: string;
  kind: string;
  tier: string;
  daily_limit: number | null;
  rpm: number | null;
  kbs: string;
  origins: string;
  created_at: string;
  revoked_at: string | null;
}

function keyFromRow(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    // The table's CHECK constraints keep these to the known values.
    kind: row.kind as KeyKind,
    tier: row.tier as Tier,
    dailyLimit: row.daily_limit ?? undefined,
    rpm: row.rpm ?? undefined,
    kbs: JSON.parse(row.kbs) as string[],
    origins: JSON.parse(row.origins) as string[],
    createdAt: row.created_at,
    revokedAt: row.revoked_at ?? undefined,
  };
}

/** Requests between two sweeps of the counters of past windows. */
const PRUNE_EVERY = 1000;

const KEY_COLUMNS = 'id, name, prefix, kind, tier, daily_limit, rpm, kbs, origins, created_at, revoked_at';

/**
 * The `AccessStore` over an open database (see `openSqliteDatabase`), sharing the connection with the
 * knowledge bases. It never closes the connection: whoever opened it does.
 *
 * @example
 * const db = openSqliteDatabase('data/kb.sqlite');
 * const access = sqliteAccessStore(db);
 * access.hasKeys(); // false on a new file
 */
export function sqliteAccessStore(db: Database.Database): AccessStore {
  const statements = new StatementCache(db);
  const stmt = (sql: string): Database.Statement => statements.get(sql);
  let consumed = 0;

  // IMMEDIATE takes the write lock before the counters are read, so two processes cannot both pass a
  // limit with its last request.
  const consume = db.transaction(
    (limits: readonly RateLimit[], usage: { keyId: number; day: string } | undefined) => {
      for (const limit of limits) {
        const row = stmt(
          'SELECT window_start, count FROM rate_counters WHERE subject = ? AND period = ?',
        ).get(limit.subject, limit.period) as { window_start: number; count: number } | undefined;
        const used = row && row.window_start === limit.windowStart ? row.count : 0;
        if (used >= limit.limit) return limit;
      }
      for (const limit of limits) {
        stmt(
          `INSERT INTO rate_counters (subject, period, window_start, count) VALUES (?, ?, ?, 1)
           ON CONFLICT (subject, period) DO UPDATE SET
             count = CASE WHEN window_start = excluded.window_start THEN count + 1 ELSE 1 END,
             window_start = excluded.window_start`,
        ).run(limit.subject, limit.period, limit.windowStart);
      }
      if (usage) {
        stmt(
          `INSERT INTO key_usage (key_id, day, requests) VALUES (?, ?, 1)
           ON CONFLICT (key_id, day) DO UPDATE SET requests = requests + 1`,
        ).run(usage.keyId, usage.day);
      }
      return undefined;
    },
  );

  return {
    createKey(key: NewApiKey): ApiKeyRecord {
      try {
        const row = stmt(
          `INSERT INTO api_keys (name, hash, prefix, kind, tier, daily_limit, rpm, kbs, origins, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${KEY_COLUMNS}`,
        ).get(
          key.name,
          key.hash,
          key.prefix,
          key.kind,
          key.tier,
          key.dailyLimit ?? null,
          key.rpm ?? null,
          JSON.stringify(key.kbs),
          JSON.stringify(key.origins),
          new Date().toISOString(),
        ) as KeyRow;
        return keyFromRow(row);
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new AppError(
            409,
            'key_exists',
            `a key named "${key.name}" already exists (names of revoked keys stay taken)`,
          );
        }
        throw error;
      }
    },

    listKeys(): ApiKeyRecord[] {
      return (stmt(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY name`).all() as KeyRow[]).map(keyFromRow);
    },

    getKey(name: string): ApiKeyRecord | undefined {
      const row = stmt(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE name = ?`).get(name) as KeyRow | undefined;
      return row && keyFromRow(row);
    },

    findKeyByHash(hash: string): ApiKeyRecord | undefined {
      const row = stmt(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = ?`).get(hash) as KeyRow | undefined;
      return row && keyFromRow(row);
    },

    revokeKey(name: string, at: Date): boolean {
      const result = stmt('UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(
        at.toISOString(),
        name,
      );
      return result.changes > 0;
    },

    hasKeys(): boolean {
      return (stmt('SELECT EXISTS (SELECT 1 FROM api_keys) AS found').get() as { found: number }).found === 1;
    },

    consume(limits, usage) {
      const full = consume.immediate(limits, usage);
      // Each client address leaves rows behind; drop the ones of past windows now and then, so the table
      // holds about one row per client of the current minute and day, not every client ever seen.
      if (++consumed % PRUNE_EVERY === 0) {
        for (const limit of limits) {
          stmt('DELETE FROM rate_counters WHERE period = ? AND window_start < ?').run(
            limit.period,
            limit.windowStart,
          );
        }
      }
      return full;
    },

    addTokens(keyId, day, promptTokens, completionTokens): void {
      stmt(
        `INSERT INTO key_usage (key_id, day, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?)
         ON CONFLICT (key_id, day) DO UPDATE SET
           prompt_tokens = prompt_tokens + excluded.prompt_tokens,
           completion_tokens = completion_tokens + excluded.completion_tokens`,
      ).run(keyId, day, promptTokens, completionTokens);
    },

    usage(filter: UsageFilter): UsageRow[] {
      return stmt(
        `SELECT k.name AS key, u.day, u.requests, u.prompt_tokens AS promptTokens,
                u.completion_tokens AS completionTokens
         FROM key_usage u JOIN api_keys k ON k.id = u.key_id
         WHERE u.day BETWEEN ? AND ? AND (? IS NULL OR k.name = ?)
         ORDER BY u.day DESC, k.name`,
      ).all(filter.from, filter.to, filter.keyName ?? null, filter.keyName ?? null) as UsageRow[];
    },
  };
}
