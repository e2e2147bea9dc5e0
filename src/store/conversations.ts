import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Role, Source, TranscriptMessage } from '../shared/protocol.ts';
import { StatementCache } from './statements.ts';

/**
 * Server-side conversations of `/ask`: who started one, on which knowledge base, and its turns. The
 * SQLite implementation below shares the service's connection (`openSqliteDatabase`); a PostgreSQL
 * backend implements the same interface over two tables like those of migration 2.
 *
 * Contracts every backend keeps:
 * - ids are unguessable (random UUIDs): they appear in URLs.
 * - `appendMessages` writes all its messages and the new `updatedAt` atomically.
 * - `deleteIdleSince` removes conversations whose last turn is older than the cut-off, messages included.
 */
export interface ConversationStore {
  /**
   * Starts a conversation with its first `messages` (none by default), atomically: a conversation whose
   * first turn is stored with it is never seen empty. `owner` is the API key's id, or null when the
   * service runs open.
   */
  create(kb: string, owner: string | null, messages?: readonly NewConversationMessage[]): Conversation;
  /** The conversation with its messages, oldest first; undefined when unknown (or deleted by retention). */
  get(id: string): ConversationWithMessages | undefined;
  /** Adds messages after the existing ones, in order, and marks the conversation as used now. */
  appendMessages(id: string, messages: readonly NewConversationMessage[]): void;
  /** Deletes conversations whose last turn is before `cutoff`; returns how many. */
  deleteIdleSince(cutoff: Date): number;
}

export interface Conversation {
  id: string;
  kb: string;
  owner: string | null;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** ISO 8601 UTC of the last turn; retention counts from here. */
  updatedAt: string;
}

/** A message to store; `sources` only on assistant messages. */
export interface NewConversationMessage {
  role: Role;
  content: string;
  sources?: Source[];
}

/** A stored turn: the transcript's message as the wire protocol defines it. */
export type ConversationMessage = TranscriptMessage;

export interface ConversationWithMessages extends Conversation {
  messages: ConversationMessage[];
}

interface ConversationRow {
  id: string;
  kb: string;
  owner: string | null;
  created_at: string;
  updated_at: string;
}

interface MessageRow {
  role: Role;
  content: string;
  sources: string | null;
  created_at: string;
}

function fromRow(row: ConversationRow): Conversation {
  return { id: row.id, kb: row.kb, owner: row.owner, createdAt: row.created_at, updatedAt: row.updated_at };
}

function messageFromRow(row: MessageRow): ConversationMessage {
  const message: ConversationMessage = { role: row.role, content: row.content, createdAt: row.created_at };
  if (row.sources !== null) message.sources = JSON.parse(row.sources) as Source[];
  return message;
}

/**
 * The `ConversationStore` over an open service database (migrated by `openSqliteDatabase`). It does not
 * own the connection: closing the knowledge-base store closes it.
 *
 * @example
 * const db = openSqliteDatabase('data/kb.sqlite');
 * const conversations = sqliteConversationStore(db);
 * const { id } = conversations.create('default', null, [{ role: 'user', content: 'Where are backups?' }]);
 * conversations.appendMessages(id, [
 *   { role: 'user', content: 'How do I back up?' },
 *   { role: 'assistant', content: 'Copy the file [1].', sources },
 * ]);
 */
export function sqliteConversationStore(db: Database.Database): ConversationStore {
  const statements = new StatementCache(db);
  const stmt = (sql: string) => statements.get(sql);
  const insertMessages = (
    id: string,
    first: number,
    messages: readonly NewConversationMessage[],
    time: string,
  ) => {
    const insert = stmt(
      `INSERT INTO conversation_messages (conversation_id, seq, role, content, sources, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    messages.forEach((m, i) => {
      insert.run(id, first + i, m.role, m.content, m.sources ? JSON.stringify(m.sources) : null, time);
    });
  };
  const append = db.transaction((id: string, messages: readonly NewConversationMessage[]) => {
    const time = new Date().toISOString();
    const updated = stmt('UPDATE conversations SET updated_at = ? WHERE id = ?').run(time, id);
    if (updated.changes === 0) throw new Error(`conversation ${id} does not exist`);
    const { next } = stmt(
      'SELECT coalesce(max(seq), 0) + 1 AS next FROM conversation_messages WHERE conversation_id = ?',
    ).get(id) as { next: number };
    insertMessages(id, next, messages, time);
  });
  // One transaction for the conversation and its first turn: /ask starts one per new conversation, and
  // a commit per write costs more than the inserts.
  const start = db.transaction(
    (kb: string, owner: string | null, messages: readonly NewConversationMessage[]) => {
      const time = new Date().toISOString();
      const row = stmt(
        'INSERT INTO conversations (id, kb, owner, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
      ).get(randomUUID(), kb, owner, time, time) as ConversationRow;
      insertMessages(row.id, 1, messages, time);
      return fromRow(row);
    },
  );

  return {
    create(kb, owner, messages = []) {
      return start.immediate(kb, owner, messages);
    },
    get(id) {
      const row = stmt('SELECT * FROM conversations WHERE id = ?').get(id) as ConversationRow | undefined;
      if (!row) return undefined;
      const messages = stmt(
        'SELECT role, content, sources, created_at FROM conversation_messages WHERE conversation_id = ? ORDER BY seq',
      ).all(id) as MessageRow[];
      return { ...fromRow(row), messages: messages.map(messageFromRow) };
    },
    appendMessages(id, messages) {
      append.immediate(id, messages);
    },
    deleteIdleSince(cutoff) {
      // Messages go with their conversation (ON DELETE CASCADE; foreign keys are on for the connection).
      return stmt('DELETE FROM conversations WHERE updated_at < ?').run(cutoff.toISOString()).changes;
    },
  };
}
