import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ingestDirectory } from '../ingest/run.ts';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { createChatModel } from '../src/llm/chat.ts';
import { createOpenAIClient } from '../src/llm/client.ts';
import { createLogger } from '../src/log.ts';
import type { AskResponse, ErrorBody, StreamEvents } from '../src/shared/protocol.ts';
import { createSseParser, type SseMessage } from '../src/shared/sse-parse.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

const QUESTION = 'How do I back up the database?';

let dir: string;
let store: Store;
let logLines: Record<string, unknown>[];
const embedder = createLocalEmbedder();

function testConfig(env: Record<string, string> = {}) {
  return loadConfig({ LOG_LEVEL: 'info', KB_PATH: join(dir, 'kb.sqlite'), ...env }, { envFile: false });
}

/** The app over the ingested knowledge base, with extractive answers unless `chat` is given. */
function makeApp(overrides: { store?: Store; env?: Record<string, string>; chat?: FakeOpenAI } = {}) {
  const config = testConfig({
    ...(overrides.chat ? { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: overrides.chat.url, EMBEDDING_PROVIDER: 'local' } : {}),
    ...overrides.env,
  });
  const chat = overrides.chat
    ? createChatModel(
        createOpenAIClient({ apiKey: 'sk-test', baseURL: overrides.chat.url, timeoutMs: 5000, maxRetries: 0 }),
        { concurrency: 4, timeoutMs: 5000 },
      )
    : undefined;
  const s = overrides.store ?? store;
  const logger = createLogger({ level: 'info', write: (line) => logLines.push(JSON.parse(line)) });
  return createApp({ answer: { store: s, embedder, chat, config }, store: s, config, logger });
}

function post(app: ReturnType<typeof makeApp>, body: unknown, headers: Record<string, string> = {}) {
  return app.request('/ask', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody['error']> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'requestId']);
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
  return body.error;
}

function parseEvents(text: string): SseMessage[] {
  const events: SseMessage[] = [];
  const parser = createSseParser((m) => events.push(m));
  parser.feed(text);
  parser.end();
  return events;
}

/** A store whose every call fails with a message that must never reach a client. */
function leakyStore(): Store {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'ping' || key === 'getKnowledgeBase') {
        return () => {
          throw new Error('secret /etc/passwd sk-abc');
        };
      }
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kb-app-'));
  const docs = join(dir, 'docs');
  mkdirSync(docs);
  writeFileSync(
    join(docs, 'backup.md'),
    '# Backups\n\nThe database lives in data/kb.sqlite. To back up the database, copy that file while the server is stopped.\n',
  );
  writeFileSync(
    join(docs, 'install.md'),
    '# Installing\n\nRun npm install, then start the server with npm start. It listens on port 8787 by default.\n',
  );
  store = openSqliteStore(join(dir, 'kb.sqlite'));
  await ingestDirectory({ dir: docs, kb: 'default', store, embedder });
});

afterAll(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  logLines = [];
});

describe('health', () => {
  it('GET /health answers ok with a request id', async () => {
    const res = await makeApp().request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GET /ready answers ready when the store answers', async () => {
    const res = await makeApp().request('/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  it('GET /ready answers 503 not_ready without the store error, which is logged instead', async () => {
    const res = await makeApp({ store: leakyStore() }).request('/ready');
    const text = await res.clone().text();
    await expectError(res, 503, 'not_ready');
    expect(text).not.toMatch(/secret|passwd|sk-abc/);
    expect(JSON.stringify(logLines)).toContain('sk-abc');
  });
});

describe('request ids, 404 and the route list', () => {
  it('an unknown route answers 404 not_found in the error shape with X-Request-Id', async () => {
    const res = await makeApp().request('/nope');
    const error = await expectError(res, 404, 'not_found');
    expect(error.message).toContain('/nope');
  });

  it('a sane incoming X-Request-Id is echoed, on success and on error', async () => {
    const app = makeApp();
    const ok = await app.request('/health', { headers: { 'X-Request-Id': 'abc-123.x_Y' } });
    expect(ok.headers.get('x-request-id')).toBe('abc-123.x_Y');
    const missing = await app.request('/nope', { headers: { 'X-Request-Id': 'trace-42' } });
    expect((await expectError(missing, 404, 'not_found')).requestId).toBe('trace-42');
  });

  it('an unsafe or over-long incoming X-Request-Id is replaced', async () => {
    const app = makeApp();
    for (const id of ['has space', 'x'.repeat(65), '<script>', 'a=b']) {
      const res = await app.request('/health', { headers: { 'X-Request-Id': id } });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('serves exactly the documented routes', () => {
    // Middleware (the request context, the body limit) is registered on `/*`; routes are what remains.
    const routes = makeApp()
      .routes.filter((r) => r.path !== '/*')
      .map((r) => `${r.method} ${r.path}`);
    expect(routes).toEqual(['GET /health', 'GET /ready', 'POST /ask']);
  });
});

describe('POST /ask validation', () => {
  it('malformed JSON is a 400 invalid_request', async () => {
    const error = await expectError(await post(makeApp(), '{"question": '), 400, 'invalid_request');
    expect(error.message).toMatch(/JSON/);
  });

  it('a missing or blank question is a 400 naming the field', async () => {
    const app = makeApp();
    for (const body of [{}, { question: '' }, { question: '   ' }, { question: 42 }]) {
      const error = await expectError(await post(app, body), 400, 'invalid_request');
      expect(error.message).toMatch(/^question: /);
    }
  });

  it('wrong types are 400s naming the field and the rule', async () => {
    const app = makeApp();
    const cases: [unknown, string][] = [
      [{ question: 'q', topK: '6' }, 'topK: expected an integer from 1 to 20'],
      [{ question: 'q', topK: 21 }, 'topK: expected an integer from 1 to 20'],
      [{ question: 'q', topK: 2.5 }, 'topK: expected an integer from 1 to 20'],
      [{ question: 'q', temperature: 3 }, 'temperature: expected a number from 0 to 2'],
      [{ question: 'q', history: 'hi' }, 'history: expected an array of messages'],
      [{ question: 'q', history: [{ role: 'system', content: 'x' }] }, 'history.0.role: expected "user" or "assistant"'],
      [{ question: 'q', stream: 'yes' }, 'stream: expected true or false'],
      [{ question: 'q', kb: '../etc' }, 'kb: expected 1 to 64 letters'],
      [[1, 2], 'body: expected a JSON object'],
    ];
    for (const [body, message] of cases) {
      const error = await expectError(await post(app, body), 400, 'invalid_request');
      expect(error.message).toContain(message);
    }
  });

  it('a question over MAX_QUESTION_CHARS is a 400', async () => {
    const app = makeApp({ env: { MAX_QUESTION_CHARS: '100' } });
    const error = await expectError(await post(app, { question: 'x'.repeat(101) }), 400, 'invalid_request');
    expect(error.message).toBe('question: must be at most 100 characters');
    expect((await post(app, { question: 'x'.repeat(100) })).status).not.toBe(400);
  });

  it('more history than MAX_HISTORY_MESSAGES is a 400', async () => {
    const app = makeApp({ env: { MAX_HISTORY_MESSAGES: '2' } });
    const history = Array.from({ length: 3 }, () => ({ role: 'user', content: 'hi' }));
    const error = await expectError(await post(app, { question: 'q', history }), 400, 'invalid_request');
    expect(error.message).toBe('history: expected at most 2 messages');
  });

  it('a body over 64 KB is a 413 payload_too_large, with or without Content-Length', async () => {
    const app = makeApp();
    const big = JSON.stringify({ question: 'q', history: [{ role: 'user', content: 'x'.repeat(70_000) }] });
    await expectError(await post(app, big), 413, 'payload_too_large');
    await expectError(await post(app, big, { 'Content-Length': String(big.length) }), 413, 'payload_too_large');
  });
});

describe('POST /ask errors', () => {
  it('an unknown knowledge base is a 404, streamed or not', async () => {
    const app = makeApp();
    const error = await expectError(await post(app, { question: QUESTION, kb: 'nope' }), 404, 'not_found');
    expect(error.message).toContain('nope');
    await expectError(await post(app, { question: QUESTION, kb: 'nope', stream: true }), 404, 'not_found');
  });

  it('an unexpected failure is a 500 internal_error that never shows its message, and is logged', async () => {
    const res = await post(makeApp({ store: leakyStore() }), { question: QUESTION });
    const text = await res.clone().text();
    const error = await expectError(res, 500, 'internal_error');
    expect(error.message).toBe('internal error');
    expect(text).not.toMatch(/secret|passwd|sk-abc/);
    const logged = logLines.find((l) => l.level === 'error');
    expect(logged?.requestId).toBe(error.requestId);
    expect(JSON.stringify(logged)).toContain('sk-abc');
  });
});

describe('POST /ask answers (extractive, real SQLite)', () => {
  it('answers JSON with sources, the request id as id, and logs kb/found/mode/tokens', async () => {
    const res = await post(makeApp(), { question: QUESTION }, { 'X-Request-Id': 'req-json-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as AskResponse;
    expect(body).toMatchObject({ id: 'req-json-1', kb: 'default', found: true, mode: 'extractive' });
    expect(body.answer.length).toBeGreaterThan(0);
    expect(body.sources[0]?.path).toBe('backup.md');

    const line = logLines.find((l) => l.msg === 'request');
    expect(line).toMatchObject({
      level: 'info',
      requestId: 'req-json-1',
      method: 'POST',
      route: '/ask',
      status: 200,
      kb: 'default',
      found: true,
      mode: 'extractive',
    });
    expect(typeof line?.ms).toBe('number');
    expect(typeof line?.tokens).toBe('number');
    expect(JSON.stringify(logLines)).not.toContain(QUESTION);
  });

  it('streams sources, deltas and done as server-sent events with anti-buffering headers', async () => {
    const res = await post(makeApp(), { question: QUESTION, stream: true }, { 'X-Request-Id': 'req-sse-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('x-request-id')).toBe('req-sse-1');

    const events = parseEvents(await res.text());
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('sources');
    expect(names.at(-1)).toBe('done');
    expect(names.slice(1, -1).every((n) => n === 'delta')).toBe(true);

    const sources = JSON.parse(events[0]!.data) as StreamEvents['sources'];
    const done = JSON.parse(events.at(-1)!.data) as StreamEvents['done'];
    const text = events.filter((e) => e.event === 'delta').map((e) => (JSON.parse(e.data) as StreamEvents['delta']).text);
    expect(sources.sources[0]?.path).toBe('backup.md');
    expect(done).toMatchObject({ id: 'req-sse-1', found: true, mode: 'extractive', kb: 'default' });
    expect(text.join('')).toBe(done.answer);

    // The log line is written when the stream ends, with the answer's fields.
    await new Promise((r) => setTimeout(r, 0));
    expect(logLines.find((l) => l.msg === 'request')).toMatchObject({ requestId: 'req-sse-1', stream: true, found: true });
  });

  it('Accept: text/event-stream streams, unless the body says "stream": false', async () => {
    const app = makeApp();
    const accept = { Accept: 'text/event-stream' };
    expect((await post(app, { question: QUESTION }, accept)).headers.get('content-type')).toMatch(/event-stream/);
    expect((await post(app, { question: QUESTION, stream: false }, accept)).headers.get('content-type')).toMatch(/json/);
  });

  it('a question the knowledge base cannot answer is found: false, not an error', async () => {
    const res = await post(makeApp(), { question: 'zebra migration patterns across the savannah' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as AskResponse).found).toBe(false);
  });
});

describe('POST /ask with a chat model (fake OpenAI server)', () => {
  let fake: FakeOpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI({ reply: 'Copy data/kb.sqlite while the server is stopped [1].' });
  });
  afterAll(() => fake?.close());
  beforeEach(() => fake.reset());

  it('a provider failure after the stream started becomes one error event, mapped like onError', async () => {
    fake.enqueue('chat', { errorAfterChunks: 2, message: 'provider secret sk-upstream' });
    const res = await post(makeApp({ chat: fake }), { question: QUESTION, stream: true }, { 'X-Request-Id': 'req-err' });
    expect(res.status).toBe(200);
    const events = parseEvents(await res.text());
    expect(events[0]?.event).toBe('sources');
    const last = events.at(-1)!;
    expect(last.event).toBe('error');
    expect(events.filter((e) => e.event === 'done' || e.event === 'error')).toHaveLength(1);
    const body = JSON.parse(last.data) as ErrorBody;
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'requestId']);
    expect(body.error.requestId).toBe('req-err');
    expect(body.error.code).toMatch(/^upstream_/);
    expect(last.data).not.toContain('sk-upstream');
    await new Promise((r) => setTimeout(r, 0));
    expect(logLines.find((l) => l.msg === 'request')).toMatchObject({ status: 200, error: body.error.code });
  });

  it('answers with the model, mode llm', async () => {
    const res = await post(makeApp({ chat: fake }), { question: QUESTION });
    expect(res.status).toBe(200);
    const body = (await res.json()) as AskResponse;
    expect(body).toMatchObject({ mode: 'llm', found: true, model: 'gpt-4o-mini' });
    expect(body.answer).toContain('[1]');
  });
});
