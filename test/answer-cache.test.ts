import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestDirectory } from '../ingest/run.ts';
import { createAnswerCache, type AnswerCacheKey } from '../src/rag/answer-cache.ts';
import type { AskResponse } from '../src/shared/protocol.ts';
import { normalizeQuestion } from '../src/text/normalize-question.ts';
import { createTestApp, useKnowledgeBaseAndModel, parseEvents, postAsk, QUESTION } from './app-fixture.ts';

const ctx = useKnowledgeBaseAndModel();

async function ask(app: ReturnType<typeof createTestApp>['app'], body: Record<string, unknown>) {
  const res = await postAsk(app, body);
  expect(res.status).toBe(200);
  return (await res.json()) as AskResponse;
}

describe('answer cache over /ask', () => {
  it('the same normalised question is answered from the cache, with nothing sent upstream', async () => {
    const { app, logLines } = createTestApp(ctx.kb, { chat: ctx.fake });
    const first = await ask(app, { question: QUESTION });
    expect(first.cached).toBe(false);
    expect(ctx.fake.requestsTo('chat')).toHaveLength(1);

    const again = await ask(app, { question: `  ${QUESTION.toUpperCase().replace('?', '？')}  ` });
    expect(ctx.fake.requestsTo('chat')).toHaveLength(1);
    expect(again.cached).toBe(true);
    expect(again.answer).toBe(first.answer);
    expect(again.sources).toEqual(first.sources);
    // Its own id, and no tokens spent.
    expect(again.id).not.toBe(first.id);
    expect(again.usage).toEqual({ promptTokens: 0, completionTokens: 0, totalTokens: 0 });
    const lines = logLines.filter((l) => l.msg === 'request');
    expect(lines.map((l) => l.cached)).toEqual([false, true]);
  });

  it('a cached answer streams as sources, one delta and done with cached: true', async () => {
    const { app } = createTestApp(ctx.kb, { chat: ctx.fake });
    await ask(app, { question: QUESTION });
    const res = await postAsk(app, { question: QUESTION, stream: true });
    const events = parseEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual(['sources', 'delta', 'done']);
    expect(JSON.parse(events[2]!.data)).toMatchObject({ cached: true, found: true });
    expect(ctx.fake.requestsTo('chat')).toHaveLength(1);
  });

  it('history, another temperature or another topK miss the cache; the same settings spelled out hit it', async () => {
    const { app } = createTestApp(ctx.kb, { chat: ctx.fake });
    await ask(app, { question: QUESTION });
    const history = [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi' },
    ];
    expect((await ask(app, { question: QUESTION, history })).cached).toBe(false);
    expect((await ask(app, { question: QUESTION, temperature: 1 })).cached).toBe(false);
    expect((await ask(app, { question: QUESTION, topK: 1 })).cached).toBe(false);
    const sent = ctx.fake.requestsTo('chat').length;
    expect((await ask(app, { question: QUESTION, temperature: 0.2 })).cached).toBe(true);
    expect(ctx.fake.requestsTo('chat')).toHaveLength(sent);
  });

  it('any change to the knowledge base invalidates its cached answers', async () => {
    const { app } = createTestApp(ctx.kb, { chat: ctx.fake });
    await ask(app, { question: QUESTION });
    expect((await ask(app, { question: QUESTION })).cached).toBe(true);
    appendFileSync(join(ctx.kb.dir, 'docs', 'backup.md'), '\nKeep three copies of every backup.\n');
    await ingestDirectory({
      dir: join(ctx.kb.dir, 'docs'),
      kb: 'default',
      store: ctx.kb.store,
      embedder: ctx.kb.embedder,
    });
    expect((await ask(app, { question: QUESTION })).cached).toBe(false);
    expect(ctx.fake.requestsTo('chat')).toHaveLength(2);
  });

  it('CACHE_TTL_SECONDS=0 turns the cache off', async () => {
    const { app } = createTestApp(ctx.kb, { chat: ctx.fake, env: { CACHE_TTL_SECONDS: '0' } });
    await ask(app, { question: QUESTION });
    expect((await ask(app, { question: QUESTION })).cached).toBe(false);
    expect(ctx.fake.requestsTo('chat')).toHaveLength(2);
  });

  it('extractive answers are cached too, and failed answers are not', async () => {
    const { app } = createTestApp(ctx.kb);
    await ask(app, { question: QUESTION });
    expect((await ask(app, { question: QUESTION })).cached).toBe(true);

    const llm = createTestApp(ctx.kb, { chat: ctx.fake }).app;
    ctx.fake.enqueue('chat', { status: 400 });
    expect((await postAsk(llm, { question: QUESTION })).status).toBe(502);
    expect((await ask(llm, { question: QUESTION })).cached).toBe(false);
  });
});

describe('createAnswerCache', () => {
  const key: AnswerCacheKey = {
    kbId: 1,
    revision: 3,
    question: 'q',
    model: 'm',
    temperature: 0.2,
    topK: 6,
    mode: 'llm',
  };
  const response = { id: 'a', answer: 'x' } as AskResponse;

  it('serves an entry until CACHE_TTL_SECONDS have passed', () => {
    let now = 1_000;
    const cache = createAnswerCache({ ttlSeconds: 60, maxEntries: 10, now: () => now });
    cache.set(key, response);
    now += 59_999;
    expect(cache.get(key)).toBe(response);
    now += 1;
    expect(cache.get(key)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keys on every field, the revision included', () => {
    const cache = createAnswerCache({ ttlSeconds: 60, maxEntries: 10 });
    cache.set(key, response);
    for (const change of [
      { revision: 4 },
      { kbId: 2 },
      { model: 'n' },
      { topK: 5 },
      { mode: 'extractive' as const },
    ]) {
      expect(cache.get({ ...key, ...change })).toBeUndefined();
    }
  });

  it('drops the least recently used entry beyond CACHE_MAX_ENTRIES', () => {
    const cache = createAnswerCache({ ttlSeconds: 60, maxEntries: 2 });
    cache.set({ ...key, question: 'a' }, response);
    cache.set({ ...key, question: 'b' }, response);
    cache.get({ ...key, question: 'a' });
    cache.set({ ...key, question: 'c' }, response);
    expect(cache.get({ ...key, question: 'a' })).toBe(response);
    expect(cache.get({ ...key, question: 'b' })).toBeUndefined();
    expect(cache.size).toBe(2);
  });
});

describe('normalizeQuestion', () => {
  it('ignores case, width, spacing and closing punctuation', () => {
    expect(normalizeQuestion('  How do I  BACK UP？ ')).toBe('how do i back up');
    expect(normalizeQuestion('ＡＰＩ　怎么用。')).toBe('api 怎么用');
    expect(normalizeQuestion('What is 2.5?')).toBe('what is 2.5');
  });
});
