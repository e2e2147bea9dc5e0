import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AskResponse } from '../src/shared/protocol.ts';
import { openAskKnowledgeBase, serveOnSocket, startAsk, type AskKnowledgeBase } from './ask-cli-fixture.ts';
import { QUESTION, createTestApp, openTestKnowledgeBase, type TestKnowledgeBase } from './app-fixture.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

let kb: AskKnowledgeBase;
let env: Record<string, string>;

beforeAll(async () => {
  kb = await openAskKnowledgeBase();
  env = { KB_PATH: kb.kbPath, LOG_LEVEL: 'silent' };
});
afterAll(() => kb?.close());

describe('ask CLI, one question against the local knowledge base', () => {
  it('prints the extractive answer, then its numbered sources, and exits 0', async () => {
    const run = startAsk([QUESTION], env);
    expect(await run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/copy that file while the server is stopped/);
    expect(run.stdout).toMatch(/\n\nSources:\n {2}\[1\] Backups · backup\.md\n/);
  });

  it('answers a Chinese question in Chinese, UTF-8 in and out', async () => {
    const run = startAsk(['如何备份数据库？'], env);
    expect(await run.code).toBe(0);
    expect(run.stdout).toMatch(/复制这个文件/);
    expect(run.stdout).toMatch(/\[1\] 数据库备份 · 备份\.md/);
  });

  it('joins unquoted words into one question', async () => {
    const run = startAsk(['How', 'do', 'I', 'back', 'up', 'the', 'database?'], env);
    expect(await run.code).toBe(0);
    expect(run.stdout).toMatch(/copy that file/);
  });

  it('--json prints the response object and nothing else', async () => {
    const run = startAsk([QUESTION, '--json'], env);
    expect(await run.code).toBe(0);
    const response = JSON.parse(run.stdout) as AskResponse;
    expect(response).toMatchObject({ found: true, mode: 'extractive', model: 'extractive', kb: 'default' });
    expect(response.answer).toMatch(/copy that file/);
    expect(response.sources[0]).toMatchObject({ index: 1, path: 'backup.md', title: 'Backups' });
  });

  it('prints the not-found message, with no sources, when nothing is relevant', async () => {
    const run = startAsk(['What is the airspeed velocity of an unladen swallow?'], env);
    expect(await run.code).toBe(0);
    expect(run.stdout).toBe("I couldn't find this in the knowledge base.\n");
  });

  it('Ctrl-C cancels a streaming answer and exits 130', async () => {
    const reply = Array.from({ length: 40 }, (_, i) => `step ${i} [1].`).join(' ');
    const slow = await startFakeOpenAI({ reply, chunkDelayMs: 100 });
    try {
      const run = startAsk([QUESTION], {
        ...env,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: slow.url,
        EMBEDDING_PROVIDER: 'local',
      });
      await run.waitFor(/step 0 /);
      run.interrupt();
      expect(await run.code).toBe(130);
      expect(run.stdout).toMatch(/\n\(cancelled\)\n$/);
      await slow.waitUntil(() => slow.requestsTo('chat')[0]?.aborted === true);
    } finally {
      await slow.close();
    }
  });

  it('an unknown knowledge base exits 1 with one line saying so', async () => {
    const run = startAsk([QUESTION, '--kb', 'nope'], env);
    expect(await run.code).toBe(1);
    expect(run.stderr).toBe('ask: knowledge base "nope" not found; ingest documents into it first\n');
  });

  it('usage errors are listed at once with the usage, exit 2', async () => {
    const run = startAsk([QUESTION, '--temperature', 'hot', '--key', 'k', '--bogus'], env);
    expect(await run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^ask: unknown option --bogus; --temperature must be a number from 0 to 2; --key only applies with --url\n/,
    );
    expect(run.stderr).toMatch(/USAGE/);
    expect(run.stdout).toBe('');
  });

  it('--help prints the usage and exits 0', async () => {
    const run = startAsk(['--help'], env);
    expect(await run.code).toBe(0);
    expect(run.stdout).toMatch(/--url/);
    expect(run.stdout).toMatch(/--temperature/);
  });
});

describe('ask CLI with --url, against the service on a socket', () => {
  let serviceKb: TestKnowledgeBase;
  let fake: FakeOpenAI;
  let service: Awaited<ReturnType<typeof serveOnSocket>>;
  let url: string;
  const authorizations: (string | null)[] = [];

  beforeAll(async () => {
    serviceKb = await openTestKnowledgeBase();
    fake = await startFakeOpenAI({
      reply: 'Copy the file while the server is stopped [1]. 完成。',
      chunkChars: 4,
    });
    const { app } = createTestApp(serviceKb, { chat: fake, env: { ALLOWED_MODELS: 'gpt-4o' } });
    service = await serveOnSocket((request) => {
      authorizations.push(request.headers.get('authorization'));
      return app.fetch(request);
    });
    url = service.url;
  });

  afterAll(async () => {
    await service?.close();
    await fake?.close();
    serviceKb?.close();
  });

  it('streams the answer and its sources, sending the flags and the key', async () => {
    fake.reset();
    authorizations.length = 0;
    // No KB_PATH: remote mode must not need the local knowledge base.
    const run = startAsk(
      [QUESTION, '--url', url, '--key', 'kb_secret', '--model', 'gpt-4o', '--temperature', '0.7'],
      {},
    );
    expect(await run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      'Copy the file while the server is stopped [1]. 完成。\n\nSources:\n  [1] Backups · backup.md\n',
    );
    expect(authorizations).toEqual(['Bearer kb_secret']);
    const [chat] = fake.requestsTo('chat');
    expect(chat?.body).toMatchObject({ model: 'gpt-4o', temperature: 0.7, stream: true });
  });

  it('--json prints the response object from the stream’s done event', async () => {
    const run = startAsk([QUESTION, '--url', `${url}/`, '--json'], {});
    expect(await run.code).toBe(0);
    const response = JSON.parse(run.stdout) as AskResponse;
    expect(response).toMatchObject({ mode: 'llm', found: true, kb: 'default' });
    expect(response.answer).toBe('Copy the file while the server is stopped [1]. 完成。');
  });

  it('a service error exits 1 with the service’s message', async () => {
    const run = startAsk([QUESTION, '--url', url, '--kb', 'nope'], {});
    expect(await run.code).toBe(1);
    expect(run.stderr).toBe('ask: knowledge base "nope" not found; ingest documents into it first\n');
  });

  it('a service that cannot be reached exits 1 naming the URL', async () => {
    const run = startAsk([QUESTION, '--url', 'http://127.0.0.1:9'], {});
    expect(await run.code).toBe(1);
    expect(run.stderr).toMatch(/^ask: cannot reach http:\/\/127\.0\.0\.1:9\/ask/);
  });
});
