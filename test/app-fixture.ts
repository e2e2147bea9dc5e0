/**
 * What the HTTP tests share: a real SQLite knowledge base built from two small Markdown files with the
 * local embedder, the app over it (extractive, or with a chat model talking to the fake OpenAI server),
 * and helpers to post to `/ask` and read error bodies and server-sent events.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { ingestDirectory } from '../ingest/run.ts';
import type { AccessStore } from '../src/access/access-store.ts';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { Embedder } from '../src/embed/embedder.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { chatModelFromConfig } from '../src/llm/from-config.ts';
import type { FeedbackStore } from '../src/feedback/feedback-store.ts';
import { sqliteFeedbackStore } from '../src/feedback/sqlite-feedback-store.ts';
import { createLogger } from '../src/log.ts';
import type { ErrorBody } from '../src/shared/protocol.ts';
import { createSseParser, type SseMessage } from '../src/shared/sse-parse.ts';
import { sqliteConversationStore, type ConversationStore } from '../src/store/conversations.ts';
import { openSqliteDatabase, sqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

/** A question the test knowledge base answers from `backup.md`. */
export const QUESTION = 'How do I back up the database?';

export interface TestKnowledgeBase {
  dir: string;
  store: Store;
  embedder: Embedder;
  /** Asked questions and ratings, over the same connection as `store`. */
  feedback: FeedbackStore;
  /** Server-side conversations, over the same connection as `store`. */
  conversations: ConversationStore;
  close(): void;
}

/** Knowledge base `default` in a temp folder: `backup.md` and `install.md`. Always `close()` it. */
export async function openTestKnowledgeBase(): Promise<TestKnowledgeBase> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-app-'));
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
  const embedder = createLocalEmbedder();
  const db = openSqliteDatabase(join(dir, 'kb.sqlite'));
  const store = sqliteStore(db);
  const feedback = sqliteFeedbackStore(db);
  const conversations = sqliteConversationStore(db);
  await ingestDirectory({ dir: docs, kb: 'default', store, embedder });
  return {
    dir,
    store,
    embedder,
    feedback,
    conversations,
    close() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestAppOptions {
  /** Replaces the knowledge base's store (e.g. a failing one). */
  store?: Store;
  /** Extra environment for `loadConfig`. */
  env?: Record<string, string>;
  /** Answer with a chat model talking to this fake provider; extractive without. */
  chat?: FakeOpenAI;
  /** Serve this widget bundle (and the demo page). */
  widget?: { code: string; etag: string };
  /** Turn on API keys and quotas over this store; without it every route is open and unlimited. */
  access?: AccessStore;
}

/** The app over `kb`, and the parsed log lines it writes. */
export function createTestApp(kb: TestKnowledgeBase, options: TestAppOptions = {}) {
  const fake = options.chat;
  const config = loadConfig(
    {
      KB_PATH: join(kb.dir, 'kb.sqlite'),
      // Tests fail fast unless they ask for retries or a longer deadline.
      ...(fake
        ? {
            OPENAI_API_KEY: 'sk-test',
            OPENAI_BASE_URL: fake.url,
            EMBEDDING_PROVIDER: 'local',
            LLM_MAX_RETRIES: '0',
            LLM_TIMEOUT_MS: '5000',
          }
        : {}),
      ...options.env,
    },
    { envFile: false },
  );
  const chat = chatModelFromConfig(config);
  const store = options.store ?? kb.store;
  const logLines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', write: (line) => logLines.push(JSON.parse(line)) });
  const app = createApp({
    answer: { store, embedder: kb.embedder, chat, config },
    store,
    config,
    logger,
    feedback: kb.feedback,
    conversations: kb.conversations,
    ...(options.widget ? { widget: options.widget } : {}),
    ...(options.access ? { access: options.access } : {}),
  });
  return { app, logLines };
}

type TestApp = ReturnType<typeof createTestApp>['app'];

/** `POST /ask` with a JSON body (a string is sent as is, for malformed bodies). */
export function postAsk(app: TestApp, body: unknown, headers: Record<string, string> = {}) {
  return app.request('/ask', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Checks the status and the exact error shape, including that `requestId` is the `X-Request-Id` sent. */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorBody['error']> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'requestId']);
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBe(res.headers.get('x-request-id'));
  return body.error;
}

/** The events of a whole server-sent events body. */
export function parseEvents(text: string): SseMessage[] {
  const events: SseMessage[] = [];
  const parser = createSseParser((m) => events.push(m));
  parser.feed(text);
  parser.end();
  return events;
}

/** `store` with `ping` and `getKnowledgeBase` failing with a message that must never reach a client. */
export function leakyStore(store: Store): Store {
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

/** The fake model's default reply in tests over the test knowledge base: a cited answer from backup.md. */
export const BACKUP_ANSWER = 'Copy data/kb.sqlite while the server is stopped [1].';

/**
 * Registers the hooks most HTTP test files share: one test knowledge base and one fake model for the
 * file, closed after it, with the fake's recorded requests and scripted failures reset before each test.
 * Read `kb` and `fake` inside tests (they are set by `beforeAll`).
 *
 * @example
 * const ctx = useKnowledgeBaseAndModel();
 * it('answers', async () => postAsk(createTestApp(ctx.kb, { chat: ctx.fake }).app, { question: QUESTION }));
 */
export function useKnowledgeBaseAndModel(reply: string = BACKUP_ANSWER): {
  kb: TestKnowledgeBase;
  fake: FakeOpenAI;
} {
  const ctx = {} as { kb: TestKnowledgeBase; fake: FakeOpenAI };
  beforeAll(async () => {
    ctx.kb = await openTestKnowledgeBase();
    ctx.fake = await startFakeOpenAI({ reply });
  });
  afterAll(async () => {
    await ctx.fake?.close();
    ctx.kb?.close();
  });
  beforeEach(() => ctx.fake.reset());
  return ctx;
}
