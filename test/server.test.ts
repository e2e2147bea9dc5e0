import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AskResponse } from '../src/shared/protocol.ts';
import { readSse, type SseMessage } from '../src/shared/sse-parse.ts';
import { QUESTION, createTestApp, openTestKnowledgeBase, type TestKnowledgeBase } from './app-fixture.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';
import { listen, type ListeningApp } from './listen.ts';

/**
 * The one test over a real socket: what `app.request()` cannot show is that events leave the server as
 * they are produced, and that a client hanging up reaches the model provider as a cancelled request.
 */

const CHUNK_GAP_MS = 1500;

let kb: TestKnowledgeBase;
let fake: FakeOpenAI;
let server: ListeningApp;
let base: string;
let logLines: Record<string, unknown>[];

beforeAll(async () => {
  kb = await openTestKnowledgeBase();
  // A reply whose pieces come CHUNK_GAP_MS apart: the test hangs up inside a gap, so only the abort
  // signal (not the next piece arriving) can explain an upstream request cancelled within that gap.
  const reply = Array.from({ length: 20 }, (_, i) => `Step ${i}: copy the database file [1].`).join(' ');
  fake = await startFakeOpenAI({ reply, chunkDelayMs: CHUNK_GAP_MS });
  const test = createTestApp(kb, { chat: fake });
  logLines = test.logLines;
  server = await listen(test.app.fetch);
  base = server.base;
});

afterAll(async () => {
  await server?.close();
  await fake?.close();
  kb?.close();
});

it('streams events as they are produced, and a client that hangs up cancels the upstream request', async () => {
  const client = new AbortController();
  const res = await fetch(`${base}/ask`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'socket-1' },
    body: JSON.stringify({ question: QUESTION, stream: true }),
    signal: client.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);

  const received: SseMessage[] = [];
  let hungUpAt = 0;
  try {
    for await (const message of readSse(res.body!)) {
      received.push(message);
      if (message.event === 'delta') {
        // The first piece arrives while the provider is still answering: nothing buffers the answer.
        expect(fake.inFlight('chat')).toBe(1);
        hungUpAt = Date.now();
        client.abort();
        break;
      }
    }
  } catch (error) {
    // Depending on timing the reader sees the abort as an error; the events read so far are what count.
    if ((error as Error).name !== 'AbortError') throw error;
  }
  expect(received[0]?.event).toBe('sources');
  expect(received.map((m) => m.event)).toEqual(['sources', 'delta']);

  await fake.waitUntil(() => fake.requestsTo('chat')[0]?.aborted === true, 5000);
  const upstream = fake.requestsTo('chat');
  expect(upstream).toHaveLength(1);
  expect(upstream[0]!.finishedAt! - hungUpAt).toBeLessThan(CHUNK_GAP_MS / 2);
  expect(fake.inFlight('chat')).toBe(0);

  // The request's log line is written once the stream has wound down, marked as aborted.
  await fake.waitUntil(() => logLines.some((l) => l.msg === 'request' && l.requestId === 'socket-1'), 5000);
  expect(logLines.find((l) => l.msg === 'request')).toMatchObject({
    requestId: 'socket-1',
    status: 200,
    aborted: true,
  });
  expect(logLines.some((l) => l.level === 'error')).toBe(false);

  // The cut-off answer was neither cached nor stored: asked again, the question goes to the model.
  const again = await fetch(`${base}/ask`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ question: QUESTION }),
  });
  expect(((await again.json()) as AskResponse).cached).toBe(false);
  expect(fake.requestsTo('chat')).toHaveLength(2);
});

it('a JSON client that hangs up is logged as 499 client_closed_request, with no error line', async () => {
  fake.enqueue('chat', { hang: true });
  const client = new AbortController();
  const pending = fetch(`${base}/ask`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'socket-2' },
    // Not the question above, whose answer the cache now holds.
    body: JSON.stringify({ question: `${QUESTION} Please be brief.` }),
    signal: client.signal,
  }).catch((error: Error) => error.name);
  await fake.waitUntil(() => fake.inFlight('chat') === 1, 5000);
  client.abort();
  expect(await pending).toBe('AbortError');
  await fake.waitUntil(() => logLines.some((l) => l.msg === 'request' && l.requestId === 'socket-2'), 5000);
  expect(logLines.find((l) => l.msg === 'request' && l.requestId === 'socket-2')).toMatchObject({
    status: 499,
    error: 'client_closed_request',
    aborted: true,
  });
  expect(logLines.some((l) => l.level === 'error')).toBe(false);
});
