import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UsageRow } from '../src/access/access-store.ts';
import { utcDay } from '../src/access/windows.ts';
import {
  createTestApp,
  expectError,
  openTestKnowledgeBase,
  postAsk,
  QUESTION,
  type TestKnowledgeBase,
} from './app-fixture.ts';
import { bearer, openTestAccess, type TestAccess } from './access-fixture.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

let kb: TestKnowledgeBase;
let access: TestAccess;
let fake: FakeOpenAI;

/** 12:00:30 UTC: mid-minute and mid-day, so no window ends during a test. */
const NOON = Date.parse('2026-03-10T12:00:30Z');

beforeAll(async () => {
  kb = await openTestKnowledgeBase();
  fake = await startFakeOpenAI({ reply: 'Copy data/kb.sqlite while the server is stopped [1].' });
});
afterAll(async () => {
  await fake?.close();
  kb?.close();
});
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOON);
  access = openTestAccess(kb.dir);
});
afterEach(() => {
  access.close();
  vi.useRealTimers();
});

function app(env: Record<string, string> = {}) {
  return createTestApp(kb, { access: access.store, env });
}

/** Answers from a chat model, so answers have token usage. */
const llmApp = () => createTestApp(kb, { chat: fake, access: access.store }).app;

describe('without any API key', () => {
  it('answers /ask without a key', async () => {
    const res = await postAsk(app().app, { question: QUESTION });
    expect(res.status).toBe(200);
  });

  it('limits each client address per minute with 429 rate_limited and Retry-After', async () => {
    const { app: a } = app({ OPEN_IP_RPM: '2', TRUST_PROXY: 'true' });
    const from = (ip: string) => ({ 'X-Forwarded-For': ip });
    expect((await postAsk(a, { question: QUESTION }, from('10.0.0.1'))).status).toBe(200);
    expect((await postAsk(a, { question: QUESTION }, from('10.0.0.1'))).status).toBe(200);
    const refused = await postAsk(a, { question: QUESTION }, from('10.0.0.1'));
    await expectError(refused, 429, 'rate_limited');
    expect(refused.headers.get('retry-after')).toBe('30');
    // Another client has its own counter.
    expect((await postAsk(a, { question: QUESTION }, from('10.0.0.2'))).status).toBe(200);
    vi.setSystemTime(NOON + 30_000);
    expect((await postAsk(a, { question: QUESTION }, from('10.0.0.1'))).status).toBe(200);
  });

  it('limits each client address per day with 429 quota_exceeded', async () => {
    const { app: a } = app({ OPEN_IP_DAILY_LIMIT: '1' });
    expect((await postAsk(a, { question: QUESTION })).status).toBe(200);
    const refused = await postAsk(a, { question: QUESTION });
    await expectError(refused, 429, 'quota_exceeded');
    expect(refused.headers.get('retry-after')).toBe(String(12 * 3600 - 30));
  });
});

describe('once a key exists', () => {
  it('answers 401 unauthorized without a key, with a wrong one and with a revoked one', async () => {
    const secret = access.key({ name: 'intranet' });
    const { app: a } = app();
    await expectError(await postAsk(a, { question: QUESTION }), 401, 'unauthorized');
    await expectError(await postAsk(a, { question: QUESTION }, bearer(`${secret}x`)), 401, 'unauthorized');
    await expectError(
      await postAsk(a, { question: QUESTION }, { Authorization: secret }),
      401,
      'unauthorized',
    );
    expect((await postAsk(a, { question: QUESTION }, bearer(secret))).status).toBe(200);
    access.store.revokeKey('intranet', new Date());
    await expectError(await postAsk(a, { question: QUESTION }, bearer(secret)), 401, 'unauthorized');
  });

  it('keeps the service closed after the last key is revoked', async () => {
    access.key({ name: 'only' });
    access.store.revokeKey('only', new Date());
    await expectError(await postAsk(app().app, { question: QUESTION }), 401, 'unauthorized');
  });

  it('guards every API route, present and future, but not probes, the widget or metrics', async () => {
    access.key({ name: 'intranet' });
    const { app: a } = createTestApp(kb, { access: access.store, widget: { code: '', etag: '"w"' } });
    for (const [method, path] of [
      ['GET', '/conversations/abc'],
      ['POST', '/feedback'],
      ['GET', '/admin/usage'],
      ['GET', '/admin/unanswered'],
      ['GET', '/a-route-added-later'],
    ] as const) {
      await expectError(await a.request(path, { method }), 401, 'unauthorized');
    }
    // The OpenAI-compatible API answers in OpenAI's error shape, with the same code.
    const openai = await a.request('/v1/chat/completions', { method: 'POST' });
    expect(openai.status).toBe(401);
    expect(((await openai.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    for (const path of ['/health', '/ready', '/widget.js', '/', '/metrics']) {
      expect((await a.request(path)).status, path).toBe(200);
    }
  });

  it('puts the key name, never the key, in the log line and gives routes the key', async () => {
    const secret = access.key({ name: 'intranet' });
    const { app: a, logLines } = app();
    await postAsk(a, { question: QUESTION }, bearer(secret));
    const line = logLines.find((l) => l.msg === 'request')!;
    expect(line.key).toBe('intranet');
    expect(JSON.stringify(logLines)).not.toContain(secret);
  });

  it('answers 403 forbidden for a knowledge base the key does not cover, named or by default', async () => {
    const secret = access.key({ name: 'hr-only', kbs: ['hr'] });
    const { app: a } = app();
    await expectError(await postAsk(a, { question: QUESTION }, bearer(secret)), 403, 'forbidden');
    await expectError(
      await postAsk(a, { question: QUESTION, kb: 'default' }, bearer(secret)),
      403,
      'forbidden',
    );
    // Covered: the request goes through to the route (which has no such knowledge base).
    await expectError(await postAsk(a, { question: QUESTION, kb: 'hr' }, bearer(secret)), 404, 'not_found');
  });

  it('lets only admin keys reach /admin/*', async () => {
    const server = access.key({ name: 'backend' });
    const admin = access.key({ name: 'ops', kind: 'admin' });
    const { app: a } = app();
    await expectError(await a.request('/admin/usage', { headers: bearer(server) }), 403, 'forbidden');
    expect((await a.request('/admin/usage', { headers: bearer(admin) })).status).toBe(200);
  });
});

describe('widget keys', () => {
  const SITE = 'https://intranet.example';
  const env = { WIDGET_ORIGINS: `${SITE},https://other.example` };

  it('are honoured only from their listed origins', async () => {
    const secret = access.key({ name: 'site', kind: 'widget', kbs: ['default'], origins: [SITE] });
    const { app: a } = app(env);
    await expectError(await postAsk(a, { question: QUESTION }, bearer(secret)), 403, 'forbidden');
    const other = bearer(secret, { Origin: 'https://other.example' });
    await expectError(await postAsk(a, { question: QUESTION }, other), 403, 'forbidden');
    expect((await postAsk(a, { question: QUESTION }, bearer(secret, { Origin: SITE }))).status).toBe(200);
  });

  it('are honoured only for their listed knowledge bases', async () => {
    const secret = access.key({ name: 'site', kind: 'widget', kbs: ['hr'], origins: [SITE] });
    const res = await postAsk(app(env).app, { question: QUESTION }, bearer(secret, { Origin: SITE }));
    await expectError(res, 403, 'forbidden');
  });

  it('limit each visitor per minute besides the key itself', async () => {
    const secret = access.key({ name: 'site', kind: 'widget', kbs: ['default'], origins: [SITE] });
    const { app: a } = app({ ...env, WIDGET_CLIENT_RPM: '1', TRUST_PROXY: 'true' });
    const visitor = (ip: string) => bearer(secret, { Origin: SITE, 'X-Forwarded-For': ip });
    expect((await postAsk(a, { question: QUESTION }, visitor('10.0.0.1'))).status).toBe(200);
    await expectError(await postAsk(a, { question: QUESTION }, visitor('10.0.0.1')), 429, 'rate_limited');
    expect((await postAsk(a, { question: QUESTION }, visitor('10.0.0.2'))).status).toBe(200);
  });
});

describe('quotas', () => {
  it('refuse past the daily limit with 429 quota_exceeded and Retry-After until midnight UTC', async () => {
    const secret = access.key({ name: 'small', dailyLimit: 2 });
    const { app: a } = app();
    for (let i = 0; i < 2; i++)
      expect((await postAsk(a, { question: QUESTION }, bearer(secret))).status).toBe(200);
    const refused = await postAsk(a, { question: QUESTION }, bearer(secret));
    await expectError(refused, 429, 'quota_exceeded');
    expect(refused.headers.get('retry-after')).toBe(String(12 * 3600 - 30));
    vi.setSystemTime(Date.parse('2026-03-11T00:00:01Z'));
    expect((await postAsk(a, { question: QUESTION }, bearer(secret))).status).toBe(200);
  });

  it('use the tier limits: free is 100 a day', async () => {
    const secret = access.key({ name: 'free', rpm: 1000 });
    const { app: a } = app();
    for (let i = 0; i < 100; i++) await a.request('/nope', { headers: bearer(secret) });
    await expectError(await a.request('/nope', { headers: bearer(secret) }), 429, 'quota_exceeded');
  });

  it('refuse past the per-minute limit with 429 rate_limited, and count nothing refused', async () => {
    const secret = access.key({ name: 'burst', rpm: 2, dailyLimit: 3 });
    const { app: a } = app();
    for (let i = 0; i < 2; i++)
      expect((await postAsk(a, { question: QUESTION }, bearer(secret))).status).toBe(200);
    const refused = await postAsk(a, { question: QUESTION }, bearer(secret));
    await expectError(refused, 429, 'rate_limited');
    expect(refused.headers.get('retry-after')).toBe('30');
    vi.setSystemTime(NOON + 30_000);
    // The refused request used none of the daily 3.
    expect((await postAsk(a, { question: QUESTION }, bearer(secret))).status).toBe(200);
    await expectError(await postAsk(a, { question: QUESTION }, bearer(secret)), 429, 'quota_exceeded');
  });

  it('survive a restart: counters are read back from the database file', async () => {
    const secret = access.key({ name: 'small', dailyLimit: 2 });
    for (let i = 0; i < 2; i++) {
      expect((await postAsk(app().app, { question: QUESTION }, bearer(secret))).status).toBe(200);
    }
    access = access.reopen();
    await expectError(
      await postAsk(app().app, { question: QUESTION }, bearer(secret)),
      429,
      'quota_exceeded',
    );
  });
});

describe('usage accounting', () => {
  it('books requests and prompt/completion tokens per key and day, streamed answers included', async () => {
    const secret = access.key({ name: 'backend' });
    const a = llmApp();
    const json = await postAsk(a, { question: QUESTION }, bearer(secret));
    const first = (await json.json()) as { usage: { promptTokens: number; completionTokens: number } };
    expect(first.usage.promptTokens).toBeGreaterThan(0);
    const streamed = await postAsk(
      a,
      { question: 'How do I start the server?', stream: true },
      bearer(secret),
    );
    const text = await streamed.text();
    const done = JSON.parse(/event: done\ndata: (.*)\n/.exec(text)![1]!) as typeof first;
    await a.request('/nope', { headers: bearer(secret) });

    const [row] = access.store.usage({ from: '2000-01-01', to: '2999-12-31' });
    expect(row).toEqual({
      key: 'backend',
      day: utcDay(Date.now()),
      requests: 3,
      promptTokens: first.usage.promptTokens + done.usage.promptTokens,
      completionTokens: first.usage.completionTokens + done.usage.completionTokens,
    });
  });

  it('is shown by GET /admin/usage, for every key or one, by day', async () => {
    const admin = access.key({ name: 'ops', kind: 'admin' });
    const backend = access.key({ name: 'backend' });
    const a = llmApp();
    await postAsk(a, { question: QUESTION }, bearer(backend));
    const res = await a.request('/admin/usage', { headers: bearer(admin) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { from: string; to: string; usage: UsageRow[] };
    expect(body.to).toBe(utcDay(Date.now()));
    // The admin's own request is booked before its answer is read.
    expect(body.usage.map((r) => [r.key, r.requests])).toEqual([
      ['backend', 1],
      ['ops', 1],
    ]);
    const one = await a.request('/admin/usage?key=backend', { headers: bearer(admin) });
    expect(((await one.json()) as { usage: UsageRow[] }).usage.map((r) => r.key)).toEqual(['backend']);
    const old = await a.request('/admin/usage?from=2000-01-01&to=2000-01-31', { headers: bearer(admin) });
    expect(((await old.json()) as { usage: UsageRow[] }).usage).toEqual([]);
  });

  it('answers /admin/usage with 404 for an unknown key and 400 for a malformed day', async () => {
    const admin = access.key({ name: 'ops', kind: 'admin' });
    const a = llmApp();
    await expectError(
      await a.request('/admin/usage?key=ghost', { headers: bearer(admin) }),
      404,
      'not_found',
    );
    await expectError(
      await a.request('/admin/usage?from=yesterday', { headers: bearer(admin) }),
      400,
      'invalid_request',
    );
  });
});
