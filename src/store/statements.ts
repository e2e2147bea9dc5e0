import type Database from 'better-sqlite3';

/**
 * Prepared statements by SQL text, so each is compiled once per connection. Statements that name a
 * per-knowledge-base table are evicted when the table is dropped. `pluck()` and `raw()` switch the
 * shared statement's mode, so each SQL text must always be used in one mode.
 *
 * @example
 * const statements = new StatementCache(db);
 * statements.get('SELECT 1').get();
 */
export class StatementCache {
  readonly db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.db = db;
  }

  get(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Forgets every statement whose SQL contains `fragment` (a quoted table name). */
  evict(fragment: string): void {
    for (const sql of this.#statements.keys()) if (sql.includes(fragment)) this.#statements.delete(sql);
  }
}
