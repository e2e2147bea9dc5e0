import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ingestDirectory } from '../ingest/run.ts';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { createChatModel } from '../src/llm/chat.ts';
import { createOpenAIClient } from '../src/llm/client.ts';
import { createLogger } from '../src/log.ts';
import { readSse, type SseMessage } from '../src/shared/sse-parse.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

/**
 * The one test over a real socket: what `app.request()` cannot show is that events leave the server as
 * they are produced, and that a client hanging up reaches the model provider as a cancelled request.
 */

let dir: string;
let store: Store;
let fake: FakeOpenAI;
let server: Server;
let base: string;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kb-server-'));
  const docs = join(dir, 'docs');
  mkdirSync(docs);
  writeFileSync(
    join(docs, 'backup.md'),
    '# Backups\n\nThe database lives in data/kb.sqlite. To back up the database, copy that file while the server is stopped.\n',
  );
  writeFileSync(join(docs, 'install.md'), '# Installing\n\nRun npm install, then npm start. It listens on port 8787.\n');
  const embedder = createLocalEmbedder();
  store = openSqliteStore(join(dir, 'kb.sqlite'));
  await ingestDirectory({ dir: docs, kb: 'default', store, embedder });

  // A long reply trickling out: about 10 s in total, far longer than the test waits.
  const reply = Array.from({ length: 100 }, (_, i) => `Step ${i}: copy the database file [1].`).join(' ');
  fake = await startFakeOpenAI({ reply, chunkDelayMs: 25 });
  const config = loadConfig(
    { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: fake.url, EMBEDDING_PROVIDER: 'local', KB_PATH: join(dir, 'kb.sqlite') },
    { envFile: false },
  );
  const client = createOpenAIClient({ apiKey: 'sk-test', baseURL: fake.url, timeoutMs: 10_000, maxRetries: 0 });
  const chat = createChatModel(client, { concurrency: 2, timeoutMs: 30_000 });
  const logger = createLogger({ level: 'info', write: (line) => logLines.push(JSON.parse(line)) });
  const app = createApp({ answer: { store, embedder, chat, config }, store, config, logger });

  server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await fake?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('streams events as they are produced, and a client that hangs up cancels the upstream request', async () => {
  const client = new AbortController();
  const res = await fetch(`${base}/ask`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'socket-1' },
    body: JSON.stringify({ question: 'How do I back up the database?', stream: true }),
    signal: client.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);

  const received: SseMessage[] = [];
  try {
    for await (const message of readSse(res.body!)) {
      received.push(message);
      if (received.filter((m) => m.event === 'delta').length === 3) {
        // Deltas arrive while the provider is still answering: nothing buffers the whole answer.
        expect(fake.inFlight('chat')).toBe(1);
        client.abort();
        break;
      }
    }
  } catch (error) {
    // Depending on timing the reader sees the abort as an error; the events read so far are what count.
    if ((error as Error).name !== 'AbortError') throw error;
  }
  expect(received[0]?.event).toBe('sources');
  expect(received.filter((m) => m.event === 'delta')).toHaveLength(3);
  expect(received.some((m) => m.event === 'done')).toBe(false);

  await fake.waitUntil(() => fake.requestsTo('chat')[0]?.aborted === true, 5000);
  expect(fake.requestsTo('chat')).toHaveLength(1);
  expect(fake.inFlight('chat')).toBe(0);

  // The request's log line is written once the stream has wound down, marked as aborted.
  await fake.waitUntil(() => logLines.some((l) => l.msg === 'request' && l.requestId === 'socket-1'), 5000);
  expect(logLines.find((l) => l.msg === 'request')).toMatchObject({ requestId: 'socket-1', status: 200, aborted: true });
  expect(logLines.some((l) => l.level === 'error')).toBe(false);
});
