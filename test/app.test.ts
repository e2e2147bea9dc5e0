import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  QUESTION,
  createTestApp,
  expectError,
  leakyStore,
  openTestKnowledgeBase,
  postAsk,
  type TestKnowledgeBase,
} from './app-fixture.ts';

/** The HTTP surface through `app.request()`: health, request ids, the error shape, validation, limits. */

let kb: TestKnowledgeBase;
beforeAll(async () => {
  kb = await openTestKnowledgeBase();
});
afterAll(() => kb?.close());

describe('health', () => {
  it('GET /health answers ok with a request id', async () => {
    const res = await createTestApp(kb).app.request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GET /ready answers ready when the store answers', async () => {
    const res = await createTestApp(kb).app.request('/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  it('GET /ready answers 503 not_ready without the store error, which is logged instead', async () => {
    const { app, logLines } = createTestApp(kb, { store: leakyStore(kb.store) });
    const res = await app.request('/ready');
    const text = await res.clone().text();
    await expectError(res, 503, 'not_ready');
    expect(text).not.toMatch(/secret|passwd|sk-abc/);
    expect(JSON.stringify(logLines)).toContain('sk-abc');
  });
});

describe('request ids, 404 and the route list', () => {
  it('an unknown route answers 404 not_found in the error shape with X-Request-Id', async () => {
    const res = await createTestApp(kb).app.request('/nope');
    const error = await expectError(res, 404, 'not_found');
    expect(error.message).toContain('/nope');
  });

  it('a sane incoming X-Request-Id is echoed, on success and on error', async () => {
    const { app } = createTestApp(kb);
    const ok = await app.request('/health', { headers: { 'X-Request-Id': 'abc-123.x_Y' } });
    expect(ok.headers.get('x-request-id')).toBe('abc-123.x_Y');
    const missing = await app.request('/nope', { headers: { 'X-Request-Id': 'trace-42' } });
    expect((await expectError(missing, 404, 'not_found')).requestId).toBe('trace-42');
  });

  it('an unsafe or over-long incoming X-Request-Id is replaced', async () => {
    const { app } = createTestApp(kb);
    for (const id of ['has space', 'x'.repeat(65), '<script>', 'a=b']) {
      const res = await app.request('/health', { headers: { 'X-Request-Id': id } });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('serves exactly the documented routes', () => {
    // Middleware (request context, body limit) is on `/*`; `ALL /ask` is browser access (CORS) for /ask.
    const routes = createTestApp(kb, { widget: { code: '', etag: '"w"' } })
      .app.routes.filter((r) => r.path !== '/*')
      .map((r) => `${r.method} ${r.path}`);
    expect(routes).toMatchInlineSnapshot(`
      [
        "ALL /ask",
        "ALL /feedback",
        "GET /health",
        "GET /ready",
        "POST /ask",
        "GET /v1/models",
        "POST /v1/chat/completions",
        "GET /conversations/:id",
        "GET /metrics",
        "POST /feedback",
        "GET /admin/unanswered",
        "GET /widget.js",
        "GET /",
      ]
    `);
  });
});

describe('POST /ask validation', () => {
  it('malformed JSON is a 400 invalid_request', async () => {
    const error = await expectError(
      await postAsk(createTestApp(kb).app, '{"question": '),
      400,
      'invalid_request',
    );
    expect(error.message).toMatch(/JSON/);
  });

  it('a missing or blank question is a 400 naming the field', async () => {
    const { app } = createTestApp(kb);
    for (const body of [{}, { question: '' }, { question: '   ' }, { question: 42 }]) {
      const error = await expectError(await postAsk(app, body), 400, 'invalid_request');
      expect(error.message).toMatch(/^question: /);
    }
  });

  it('wrong types are 400s naming the field and the rule', async () => {
    const { app } = createTestApp(kb);
    const cases: [unknown, string][] = [
      [{ question: 'q', topK: '6' }, 'topK: expected an integer from 1 to 20'],
      [{ question: 'q', topK: 21 }, 'topK: expected an integer from 1 to 20'],
      [{ question: 'q', topK: 2.5 }, 'topK: expected an integer from 1 to 20'],
      [{ question: 'q', temperature: 3 }, 'temperature: expected a number from 0 to 2'],
      [{ question: 'q', history: 'hi' }, 'history: expected an array of messages'],
      [
        { question: 'q', history: [{ role: 'system', content: 'x' }] },
        'history.0.role: expected "user" or "assistant"',
      ],
      [{ question: 'q', stream: 'yes' }, 'stream: expected true or false'],
      [{ question: 'q', kb: '../etc' }, 'kb: expected 1 to 64 letters'],
      [[1, 2], 'body: expected a JSON object'],
    ];
    for (const [body, message] of cases) {
      const error = await expectError(await postAsk(app, body), 400, 'invalid_request');
      expect(error.message).toContain(message);
    }
  });

  it('a question over MAX_QUESTION_CHARS is a 400', async () => {
    const { app } = createTestApp(kb, { env: { MAX_QUESTION_CHARS: '100' } });
    const error = await expectError(
      await postAsk(app, { question: 'x'.repeat(101) }),
      400,
      'invalid_request',
    );
    expect(error.message).toBe('question: must be at most 100 characters');
    expect((await postAsk(app, { question: 'x'.repeat(100) })).status).not.toBe(400);
  });

  it('more history than MAX_HISTORY_MESSAGES is a 400', async () => {
    const { app } = createTestApp(kb, { env: { MAX_HISTORY_MESSAGES: '2' } });
    const history = Array.from({ length: 3 }, () => ({ role: 'user', content: 'hi' }));
    const error = await expectError(await postAsk(app, { question: 'q', history }), 400, 'invalid_request');
    expect(error.message).toBe('history: expected at most 2 messages');
  });

  it('a body over 64 KB is a 413 payload_too_large, with or without Content-Length', async () => {
    const { app } = createTestApp(kb);
    const big = JSON.stringify({ question: 'q', history: [{ role: 'user', content: 'x'.repeat(70_000) }] });
    await expectError(await postAsk(app, big), 413, 'payload_too_large');
    await expectError(
      await postAsk(app, big, { 'Content-Length': String(big.length) }),
      413,
      'payload_too_large',
    );
  });
});

describe('POST /ask errors', () => {
  it('an unknown knowledge base is a 404, streamed or not', async () => {
    const { app } = createTestApp(kb);
    const error = await expectError(await postAsk(app, { question: QUESTION, kb: 'nope' }), 404, 'not_found');
    expect(error.message).toContain('nope');
    await expectError(await postAsk(app, { question: QUESTION, kb: 'nope', stream: true }), 404, 'not_found');
  });

  it('an unexpected failure is a 500 internal_error that never shows its message, and is logged', async () => {
    const { app, logLines } = createTestApp(kb, { store: leakyStore(kb.store) });
    const res = await postAsk(app, { question: QUESTION });
    const text = await res.clone().text();
    const error = await expectError(res, 500, 'internal_error');
    expect(error.message).toBe('internal error');
    expect(text).not.toMatch(/secret|passwd|sk-abc/);
    const logged = logLines.find((l) => l.level === 'error');
    expect(logged?.requestId).toBe(error.requestId);
    expect(JSON.stringify(logged)).toContain('sk-abc');
  });
});
