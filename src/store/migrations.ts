import type Database from 'better-sqlite3';

/**
 * Schema migrations for the SQLite store, keyed on `PRAGMA user_version`.
 *
 * `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`; each runs in its own transaction
 * together with the `user_version` bump, so a crash leaves the database at a whole version. Append new
 * migrations, never edit a released one: files in the field are already at its version.
 *
 * Per-knowledge-base tables (`fts_<id>`, see `kb-tables.ts`) are created at run time, not here; a migration that must change them iterates `knowledge_bases` and rewrites each.
 */

/** One step of the schema; `up` runs inside a transaction. */
export interface Migration {
  /** Says what the step does, for error messages. */
  name: string;
  up(db: Database.Database): void;
}

/**
 * Version 1, the base tables.
 *
 * - `knowledge_bases`: the embedder is recorded so that vectors of different models are never mixed;
 *   `settings` is JSON (whatever produced the chunks); `revision` increases on every content change.
 *   The three counts are kept by the same transactions that change documents, so that `stats` and the
 *   vector index's staleness check are one row read instead of a scan of 100k chunks (~90 ms).
 * - `documents`: one row per ingested file, unique per (kb, path). `mtime_ms` is REAL because Node's
 *   `mtimeMs` has a fractional part.
 * - `chunks`: `id` is also the rowid of the chunk in its knowledge base's `fts_<id>` table. AUTOINCREMENT
 *   so an id is never reused: a stale id (in a reader's hit list, in the in-memory binary index) can
 *   point to nothing, never to another chunk. `(kb_id, text_hash)` finds vectors to reuse.
 * - `chunk_vectors`: the float32 vector of each chunk (little-endian blob, the knowledge base's
 *   dimensions), for exact re-scoring and reuse. A table of its own so that scans of `chunks` do not
 *   page through vectors; deleted with its chunk by the foreign key.
 * - `chunk_codes`: each vector's sign bits (`binaryCode`), clustered by (kb_id, chunk_id) so that one
 *   knowledge base's codes load in one short range scan into the in-memory `BinaryIndex`. No foreign
 *   key to `chunks` (cascading would need a second index on chunk_id): the store deletes codes with
 *   their chunks, and a code left behind would only propose a candidate that re-scoring drops.
 *
 * Times are ISO 8601 UTC strings. Tables are STRICT so a wrongly typed value fails loudly.
 */
const baseTables: Migration = {
  name: 'base tables',
  up(db) {
    db.exec(`
      CREATE TABLE knowledge_bases (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        embedder_provider TEXT NOT NULL,
        embedder_model TEXT NOT NULL,
        embedder_dimensions INTEGER NOT NULL CHECK (embedder_dimensions > 0),
        settings TEXT NOT NULL DEFAULT '{}',
        revision INTEGER NOT NULL DEFAULT 0,
        document_count INTEGER NOT NULL DEFAULT 0,
        chunk_count INTEGER NOT NULL DEFAULT 0,
        token_count INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE documents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kb_id INTEGER NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
        path TEXT NOT NULL,
        title TEXT NOT NULL,
        hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms REAL NOT NULL,
        format TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        updated_at TEXT NOT NULL,
        UNIQUE (kb_id, path)
      ) STRICT;

      CREATE TABLE chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kb_id INTEGER NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
        document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        heading TEXT NOT NULL,
        text TEXT NOT NULL,
        token_count INTEGER NOT NULL,
        page INTEGER,
        text_hash TEXT NOT NULL,
        UNIQUE (document_id, ordinal)
      ) STRICT;

      CREATE INDEX chunks_kb_text_hash ON chunks (kb_id, text_hash);

      CREATE TABLE chunk_vectors (
        chunk_id INTEGER PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
        embedding BLOB NOT NULL
      ) STRICT;

      CREATE TABLE chunk_codes (
        kb_id INTEGER NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
        chunk_id INTEGER NOT NULL,
        code BLOB NOT NULL,
        PRIMARY KEY (kb_id, chunk_id)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};

/**
 * Server-side conversations of `/ask` (see `conversations.ts`).
 *
 * - `conversations`: `id` is a random UUID (it is a bearer-like handle in URLs, so not guessable);
 *   `owner` is the API key that created it, NULL when the service runs without keys; `updated_at` is the
 *   last turn, which retention (`CONVERSATION_RETENTION_DAYS`) compares against, so the index.
 * - `conversation_messages`: the turns, oldest first by `seq`; `sources` is the JSON `Source[]` of an
 *   assistant turn. Deleted with their conversation by the foreign key.
 */
const conversationTables: Migration = {
  name: 'conversations',
  up(db) {
    db.exec(`
      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        kb TEXT NOT NULL,
        owner TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE INDEX conversations_updated_at ON conversations (updated_at);

      CREATE TABLE conversation_messages (
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        sources TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (conversation_id, seq)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};

/**
 * API keys, request counters and usage (see `src/store/sqlite-access.ts`).
 *
 * - `api_keys`: only the sha256 `hash` of a secret is stored, with its first characters (`prefix`) to
 *   recognise it. `daily_limit`/`rpm` NULL mean the tier's; `kbs`/`origins` are JSON arrays (empty `kbs`:
 *   every knowledge base). Revoked keys stay (`revoked_at`) so their usage and their name remain.
 * - `key_usage`: requests and tokens per key and UTC day, the accounting `keys usage` shows.
 * - `rate_counters`: one fixed-window counter per subject (`key:<id>`, `ip:<address>`, ...) and period;
 *   a counter whose `window_start` is older than the current window counts from 0 again.
 */
const accessTables: Migration = {
  name: 'api keys and quotas',
  up(db) {
    db.exec(`
      CREATE TABLE api_keys (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('server', 'widget', 'admin')),
        tier TEXT NOT NULL CHECK (tier IN ('free', 'basic', 'premium')),
        daily_limit INTEGER,
        rpm INTEGER,
        kbs TEXT NOT NULL DEFAULT '[]',
        origins TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        revoked_at TEXT
      ) STRICT;

      CREATE TABLE key_usage (
        key_id INTEGER NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (key_id, day)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE rate_counters (
        subject TEXT NOT NULL,
        period TEXT NOT NULL CHECK (period IN ('minute', 'day')),
        window_start INTEGER NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (subject, period)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};

/**
 * Asked questions and the feedback on their answers, for `POST /feedback` and the unanswered-questions
 * report (see `src/feedback/`).
 *
 * - `asked_questions`: one row per complete answer; `answer_id` is the answer's `id` (the request id);
 *   `normalized` is the question's grouping key; `found` 0 when the knowledge base had nothing. The index
 *   serves the report, which scans only what went unanswered.
 * - `answer_feedback`: the latest rating of an answer; a rating for an unknown answer is refused.
 */
const feedbackTables: Migration = {
  name: 'asked questions and feedback',
  up(db) {
    db.exec(`
      CREATE TABLE asked_questions (
        answer_id TEXT PRIMARY KEY,
        kb TEXT NOT NULL,
        question TEXT NOT NULL,
        normalized TEXT NOT NULL,
        found INTEGER NOT NULL CHECK (found IN (0, 1)),
        asked_at TEXT NOT NULL
      ) STRICT;

      CREATE INDEX asked_questions_not_found ON asked_questions (kb, normalized) WHERE found = 0;

      CREATE TABLE answer_feedback (
        answer_id TEXT PRIMARY KEY REFERENCES asked_questions (answer_id) ON DELETE CASCADE,
        rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
        comment TEXT,
        created_at TEXT NOT NULL
      ) STRICT;
    `);
  },
};

/** Retention (`QUESTION_RETENTION_DAYS`) deletes asked questions by age without scanning them all. */
const askedAtIndex: Migration = {
  name: 'asked questions by age',
  up(db) {
    db.exec('CREATE INDEX asked_questions_asked_at ON asked_questions (asked_at)');
  },
};

/**
 * Chunks deleted from a knowledge base's full-text index since it was last rebuilt. FTS5 cannot take a
 * deleted row out of its statistics in a contentless-delete table (its row count and token totals keep
 * the row), so BM25 drifts as documents change; `optimize` rebuilds the index once this passes a tenth of
 * the chunks. Existing knowledge bases start as fully drifted: their history is unknown.
 */
const textIndexDeletes: Migration = {
  name: 'full-text index deletes',
  up(db) {
    db.exec(`
      ALTER TABLE knowledge_bases ADD COLUMN text_deletes INTEGER NOT NULL DEFAULT 0;
      UPDATE knowledge_bases SET text_deletes = chunk_count;
    `);
  },
};

/** Every migration in order; the schema version of this code is `MIGRATIONS.length`. */
export const MIGRATIONS: readonly Migration[] = [
  baseTables,
  conversationTables,
  accessTables,
  feedbackTables,
  askedAtIndex,
  textIndexDeletes,
];

/** The `user_version` this code reads and writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The database's `PRAGMA user_version` (0 for a new file). */
export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function assertNotNewer(db: Database.Database, version: number): void {
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `the database ${db.name} has schema version ${version}, but this version of kb-answers only ` +
        `knows versions up to ${SCHEMA_VERSION}; upgrade kb-answers or use another database file`,
    );
  }
}

/**
 * Brings the database to `SCHEMA_VERSION`, one transaction per step, and returns the versions before
 * and after. Throws, changing nothing, if the database is newer than this code.
 *
 * @example
 * const { from, to } = migrate(db); // { from: 0, to: 1 } for a new file, { from: 1, to: 1 } afterwards
 */
export function migrate(db: Database.Database): { from: number; to: number } {
  const from = schemaVersion(db);
  assertNotNewer(db, from);
  for (let version = from; version < SCHEMA_VERSION; version++) {
    const migration = MIGRATIONS[version]!;
    const step = db.transaction(() => {
      // Re-read under the write lock: another process opening the same new file may have run this step.
      if (schemaVersion(db) !== version) return;
      migration.up(db);
      // Pragmas take no bound parameters; `version + 1` is an integer we computed.
      db.pragma(`user_version = ${version + 1}`);
    });
    try {
      // IMMEDIATE takes the write lock before the re-read above, so two processes cannot both run a step.
      step.immediate();
    } catch (error) {
      throw new Error(`migration ${version + 1} (${migration.name}) failed on ${db.name}`, { cause: error });
    }
  }
  return { from, to: SCHEMA_VERSION };
}

/**
 * For read-only connections, which cannot migrate: throws unless the schema is exactly this code's.
 *
 * @example
 * assertSchemaCurrent(readonlyDb); // throws 'the database ... has schema version 0 ...' for an empty file
 */
export function assertSchemaCurrent(db: Database.Database): void {
  const version = schemaVersion(db);
  assertNotNewer(db, version);
  if (version < SCHEMA_VERSION) {
    throw new Error(
      `the database ${db.name} has schema version ${version}, older than this code's ${SCHEMA_VERSION}, ` +
        `and was opened read-only; open it once read-write (for example by ingesting) to migrate it`,
    );
  }
}
