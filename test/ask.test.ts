import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AskResponse, ErrorBody, StreamEvents } from '../src/shared/protocol.ts';
import {
  QUESTION,
  createTestApp,
  openTestKnowledgeBase,
  parseEvents,
  postAsk,
  type TestKnowledgeBase,
} from './app-fixture.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

/** `POST /ask` answering through `app.request()`: JSON and server-sent events, extractive and with a model. */

let kb: TestKnowledgeBase;
beforeAll(async () => {
  kb = await openTestKnowledgeBase();
});
afterAll(() => kb?.close());

describe('POST /ask answers (extractive, real SQLite)', () => {
  it('answers JSON with sources, the request id as id, and logs kb/found/mode/tokens', async () => {
    const { app, logLines } = createTestApp(kb);
    const res = await postAsk(app, { question: QUESTION }, { 'X-Request-Id': 'req-json-1' });
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

  it('a browser (with an Origin) gets the same anti-buffering headers, plus CORS', async () => {
    const { app } = createTestApp(kb);
    const res = await postAsk(app, { question: QUESTION, stream: true }, { Origin: 'http://localhost:5173' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    await res.text();
  });

  it('streams sources, deltas and done as server-sent events with anti-buffering headers', async () => {
    const { app, logLines } = createTestApp(kb);
    const res = await postAsk(app, { question: QUESTION, stream: true }, { 'X-Request-Id': 'req-sse-1' });
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
    const text = events
      .filter((e) => e.event === 'delta')
      .map((e) => (JSON.parse(e.data) as StreamEvents['delta']).text);
    expect(sources.sources[0]?.path).toBe('backup.md');
    expect(done).toMatchObject({ id: 'req-sse-1', found: true, mode: 'extractive', kb: 'default' });
    expect(text.join('')).toBe(done.answer);

    // The log line is written when the stream ends, with the answer's fields.
    await new Promise((r) => setTimeout(r, 0));
    expect(logLines.find((l) => l.msg === 'request')).toMatchObject({
      requestId: 'req-sse-1',
      stream: true,
      found: true,
    });
  });

  it('Accept: text/event-stream streams, unless the body says "stream": false', async () => {
    const { app } = createTestApp(kb);
    const accept = { Accept: 'text/event-stream' };
    expect((await postAsk(app, { question: QUESTION }, accept)).headers.get('content-type')).toMatch(
      /event-stream/,
    );
    expect(
      (await postAsk(app, { question: QUESTION, stream: false }, accept)).headers.get('content-type'),
    ).toMatch(/json/);
  });

  it('a question the knowledge base cannot answer is found: false, not an error', async () => {
    const res = await postAsk(createTestApp(kb).app, {
      question: 'zebra migration patterns across the savannah',
    });
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
    const { app, logLines } = createTestApp(kb, { chat: fake });
    const res = await postAsk(app, { question: QUESTION, stream: true }, { 'X-Request-Id': 'req-err' });
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
    const res = await postAsk(createTestApp(kb, { chat: fake }).app, { question: QUESTION });
    expect(res.status).toBe(200);
    const body = (await res.json()) as AskResponse;
    expect(body).toMatchObject({ mode: 'llm', found: true, model: 'gpt-4o-mini' });
    expect(body.answer).toContain('[1]');
  });
});
