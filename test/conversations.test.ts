import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import type { AskResponse, ConversationTranscript, StreamEvents } from '../src/shared/protocol.ts';
import { sqliteConversationStore, type NewConversationMessage } from '../src/store/conversations.ts';
import { startRetention } from '../src/store/retention.ts';
import { openSqliteDatabase } from '../src/store/sqlite.ts';
import { bearer, openTestAccess, type TestAccess } from './access-fixture.ts';
import {
  createTestApp,
  expectError,
  openTestKnowledgeBase,
  parseEvents,
  postAsk,
  QUESTION,
  type TestKnowledgeBase,
} from './app-fixture.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

let kb: TestKnowledgeBase;
let fake: FakeOpenAI;
let access: TestAccess;

beforeAll(async () => {
  kb = await openTestKnowledgeBase();
  fake = await startFakeOpenAI({ reply: 'Copy data/kb.sqlite while the server is stopped [1].' });
  access = openTestAccess(kb.dir);
});
afterAll(async () => {
  access?.close();
  await fake?.close();
  kb?.close();
});
beforeEach(() => fake.reset());

const app = (env: Record<string, string> = {}) =>
  createTestApp(kb, { chat: fake, env: { QUERY_REWRITE: 'false', ...env } }).app;
type Sent = { messages: { role: string; content: string }[] };

describe('server-side conversations on /ask', () => {
  it('returns a conversationId, and sending it back continues with the history kept by the server', async () => {
    const a = app();
    const first = (await (await postAsk(a, { question: QUESTION })).json()) as AskResponse;
    expect(first.conversationId).toMatch(/^[0-9a-f-]{36}$/);

    const second = (await (
      await postAsk(a, { question: 'And how do I restore it?', conversationId: first.conversationId })
    ).json()) as AskResponse;
    expect(second.conversationId).toBe(first.conversationId);
    const sent = fake.requestsTo('chat').at(-1)!.body as Sent;
    expect(sent.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(sent.messages[1]!.content).toBe(QUESTION);
    expect(sent.messages[2]!.content).toBe(first.answer);

    const transcript = (await (
      await a.request(`/conversations/${first.conversationId}`)
    ).json()) as ConversationTranscript;
    expect(transcript).toMatchObject({ id: first.conversationId, kb: 'default' });
    expect(transcript.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', QUESTION],
      ['assistant', first.answer],
      ['user', 'And how do I restore it?'],
      ['assistant', second.answer],
    ]);
    expect(transcript.messages[1]!.sources?.[0]).toMatchObject({ index: 1, path: 'backup.md' });
    expect('owner' in transcript).toBe(false);
  });

  it('a streamed answer carries the conversationId on done, and a continued stream stays in it', async () => {
    const a = app();
    const events = parseEvents(await (await postAsk(a, { question: QUESTION, stream: true })).text());
    const done = JSON.parse(events.at(-1)!.data) as StreamEvents['done'];
    expect(done.conversationId).toBeDefined();
    const next = parseEvents(
      await (
        await postAsk(a, { question: 'Is that safe?', stream: true, conversationId: done.conversationId })
      ).text(),
    );
    expect((JSON.parse(next.at(-1)!.data) as AskResponse).conversationId).toBe(done.conversationId);
  });

  it('a new conversation started with client history keeps that history', async () => {
    const a = app();
    const history = [
      { role: 'user' as const, content: 'Where does the database live?' },
      { role: 'assistant' as const, content: 'In data/kb.sqlite [1].' },
    ];
    const first = (await (await postAsk(a, { question: QUESTION, history })).json()) as AskResponse;
    const transcript = (await (
      await a.request(`/conversations/${first.conversationId}`)
    ).json()) as ConversationTranscript;
    expect(transcript.messages.map((m) => m.content).slice(0, 3)).toEqual([
      ...history.map((m) => m.content),
      QUESTION,
    ]);
  });

  it('an unknown conversation is a 404, history with a conversationId a 400, another kb a 400', async () => {
    const a = app();
    await expectError(
      await postAsk(a, { question: QUESTION, conversationId: '00000000-0000-4000-8000-000000000000' }),
      404,
      'not_found',
    );
    await expectError(
      await a.request('/conversations/00000000-0000-4000-8000-000000000000'),
      404,
      'not_found',
    );
    await expectError(await postAsk(a, { question: QUESTION, conversationId: 'x' }), 400, 'invalid_request');
    const { conversationId } = (await (await postAsk(a, { question: QUESTION })).json()) as AskResponse;
    const withHistory = await expectError(
      await postAsk(a, { question: QUESTION, conversationId, history: [{ role: 'user', content: 'hi' }] }),
      400,
      'invalid_request',
    );
    expect(withHistory.message).toMatch(/^history: /);
    await expectError(
      await postAsk(a, { question: QUESTION, conversationId, kb: 'other' }),
      400,
      'invalid_request',
    );
  });

  it('a failed answer stores nothing', async () => {
    const a = app();
    const { conversationId } = (await (await postAsk(a, { question: QUESTION })).json()) as AskResponse;
    fake.enqueue('chat', { status: 400 });
    await expectError(await postAsk(a, { question: 'Is that safe?', conversationId }), 502, 'upstream_error');
    const transcript = (await (
      await a.request(`/conversations/${conversationId}`)
    ).json()) as ConversationTranscript;
    expect(transcript.messages).toHaveLength(2);
  });
});

describe('conversation owners', () => {
  it('only the key that created a conversation may read or continue it', async () => {
    const alice = access.key({ name: 'alice' });
    const bob = access.key({ name: 'bob' });
    const a = createTestApp(kb, { chat: fake, access: access.store, env: { QUERY_REWRITE: 'false' } }).app;
    const res = await postAsk(a, { question: QUESTION }, bearer(alice));
    expect(res.status).toBe(200);
    const { conversationId } = (await res.json()) as AskResponse;

    expect((await a.request(`/conversations/${conversationId}`, { headers: bearer(alice) })).status).toBe(
      200,
    );
    await expectError(
      await a.request(`/conversations/${conversationId}`, { headers: bearer(bob) }),
      404,
      'not_found',
    );
    await expectError(
      await postAsk(a, { question: 'Is that safe?', conversationId }, bearer(bob)),
      404,
      'not_found',
    );
  });
});

describe('retention', () => {
  it('deletes conversations idle longer than CONVERSATION_RETENTION_DAYS, at start and then periodically', async () => {
    const a = app();
    const { conversationId } = (await (await postAsk(a, { question: QUESTION })).json()) as AskResponse;
    const logger = createLogger({ level: 'silent' });
    const day = 24 * 60 * 60 * 1000;

    const rules = [
      {
        what: 'conversations',
        retentionDays: 30,
        deleteBefore: (cutoff: Date) => kb.conversations.deleteIdleSince(cutoff),
      },
    ];
    const keep = startRetention({ rules, logger, now: () => Date.now() + 29 * day });
    keep();
    expect((await a.request(`/conversations/${conversationId}`)).status).toBe(200);

    let clock = Date.now() + 29 * day;
    const stop = startRetention({ rules, logger, intervalMs: 10, now: () => clock });
    clock += 2 * day;
    await new Promise((resolve) => setTimeout(resolve, 50));
    stop();
    await expectError(await a.request(`/conversations/${conversationId}`), 404, 'not_found');
  });
});

describe('the SQLite conversation store', () => {
  it('creates a conversation with its first turn in one transaction: a failed message leaves no conversation', () => {
    const db = openSqliteDatabase(':memory:');
    try {
      const conversations = sqliteConversationStore(db);
      const started = conversations.create('default', null, [
        { role: 'user', content: 'Where are backups?' },
        { role: 'assistant', content: 'Copy the file [1].' },
      ]);
      conversations.appendMessages(started.id, [{ role: 'user', content: 'And restores?' }]);
      expect(conversations.get(started.id)?.messages.map((m) => m.content)).toEqual([
        'Where are backups?',
        'Copy the file [1].',
        'And restores?',
      ]);

      // The schema refuses any other role: the message fails after the conversation row was inserted.
      const bad = { role: 'system', content: 'x' } as unknown as NewConversationMessage;
      expect(() => conversations.create('default', null, [{ role: 'user', content: 'q' }, bad])).toThrow(
        /CHECK constraint/,
      );
      const count = db.prepare('SELECT count(*) FROM conversations').pluck().get();
      expect(count).toBe(1);
    } finally {
      db.close();
    }
  });
});
