/**
 * API keys for the access tests: an access store in its own SQLite file (reopened to simulate a restart),
 * and keys created through the same function as `keys create`.
 */
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { AccessStore } from '../src/access/access-store.ts';
import { createApiKey, type KeySpec } from '../src/access/create-key.ts';
import { openSqliteDatabase } from '../src/store/sqlite.ts';
import { sqliteAccessStore } from '../src/store/sqlite-access.ts';

let files = 0;

export interface TestAccess {
  file: string;
  db: Database.Database;
  store: AccessStore;
  /** Creates a key (server, free tier, every knowledge base unless `spec` says otherwise); returns its secret. */
  key(spec: Partial<KeySpec> & { name: string }): string;
  /** Closes the connection and opens the file again, as a restarted server would. */
  reopen(): TestAccess;
  close(): void;
}

function open(file: string): TestAccess {
  const db = openSqliteDatabase(file);
  const store = sqliteAccessStore(db);
  const access: TestAccess = {
    file,
    db,
    store,
    key: (spec) =>
      createApiKey(store, { kind: 'server', tier: 'free', kbs: [], origins: [], ...spec }).secret,
    reopen() {
      db.close();
      return open(file);
    },
    close: () => db.close(),
  };
  return access;
}

/** A new access database in `dir`. Always `close()` it. */
export function openTestAccess(dir: string): TestAccess {
  return open(join(dir, `access-${++files}.sqlite`));
}

/** `Authorization` (and other) headers for a key. */
export const bearer = (secret: string, extra: Record<string, string> = {}) => ({
  Authorization: `Bearer ${secret}`,
  ...extra,
});
