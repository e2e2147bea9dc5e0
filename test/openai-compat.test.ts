import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Source } from '../src/shared/protocol.ts';
import { QUESTION, createTestApp, openTestKnowledgeBase, type TestKnowledgeBase } from './app-fixture.ts';
import { bearer, openTestAccess } from './access-fixture.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';
import { listen, type ListeningApp } from './listen.ts';

/**
 * The OpenAI-compatible API as its users meet it: the official `openai` package with `baseURL` pointing
 * at our server over a real socket, streamed and not, with the fake provider behind the server.
 */

const REPLY = 'Copy data/kb.sqlite while the server is stopped [1].';

let kb: TestKnowledgeBase;
let fake: FakeOpenAI;
let server: ListeningApp;
let client: OpenAI;
let logLines: Record<string, unknown>[];

beforeAll(async () => {
  kb = await openTestKnowledgeBase();
  fake = await startFakeOpenAI({ reply: REPLY });
  const test = createTestApp(kb, { chat: fake, env: { CACHE_TTL_SECONDS: '0' } });
  logLines = test.logLines;
  server = await listen(test.app.fetch);
  client = new OpenAI({ apiKey: 'unused', baseURL: `${server.base}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
  await fake?.close();
  kb?.close();
});

beforeEach(() => fake.reset());

type WithSources<T> = T & { sources?: Source[] };

describe('POST /v1/chat/completions with the official openai client', () => {
  it('answers a chat.completion with usage, the citation in the text and the sources alongside', async () => {
    const completion = (await client.chat.completions.create({
      model: 'default',
      messages: [{ role: 'user', content: QUESTION }],
    })) as WithSources<OpenAI.ChatCompletion>;
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('default');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      finish_reason: 'stop',
      message: { role: 'assistant', content: REPLY },
    });
    const usage = completion.usage!;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    expect(completion.sources?.[0]).toMatchObject({ index: 1, path: 'backup.md' });
  });

  it('streams chat.completion.chunk deltas, the usage chunk with include_usage, and the sources last', async () => {
    fake.setReply('One two three four five six seven [1].');
    const stream = await client.chat.completions.create({
      model: 'kb:default',
      messages: [{ role: 'user', content: QUESTION }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: WithSources<OpenAI.ChatCompletionChunk>[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    fake.setReply(REPLY);

    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'kb:default')).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('One two three four five six seven [1].');
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(2);
    const finish = chunks.at(-2)!;
    expect(finish.choices[0]!.finish_reason).toBe('stop');
    expect(finish.usage).toBeNull();
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
    expect(last.sources?.[0]).toMatchObject({ index: 1, path: 'backup.md' });
  });

  it('without include_usage sends no usage and puts the sources on the finish chunk, then [DONE]', async () => {
    const res = await fetch(`${client.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        model: 'default',
        messages: [{ role: 'user', content: QUESTION }],
        stream: true,
      }),
    });
    const lines = (await res.text()).split('\n').filter((l) => l.startsWith('data: '));
    expect(lines.at(-1)).toBe('data: [DONE]');
    const chunks = lines.slice(0, -1).map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
    expect(chunks.at(-1)).toMatchObject({ choices: [{ finish_reason: 'stop' }], sources: [{ index: 1 }] });
  });

  it("adds the client's system message after the service's system prompt and passes the history", async () => {
    await client.chat.completions.create({
      model: 'default',
      messages: [
        { role: 'system', content: 'Answer like a pirate.' },
        { role: 'user', content: 'Where does the database live?' },
        { role: 'assistant', content: 'In data/kb.sqlite [1].' },
        { role: 'user', content: QUESTION },
      ],
    });
    const answerCall = fake.requestsTo('chat').at(-1)!.body as {
      messages: { role: string; content: string }[];
    };
    const [system, ...rest] = answerCall.messages;
    expect(system!.role).toBe('system');
    expect(system!.content).toMatch(/cite/i);
    expect(system!.content.endsWith('\n\nAnswer like a pirate.')).toBe(true);
    expect(rest.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(rest[0]!.content).toBe('Where does the database live?');
  });

  it('logs the answer like /ask does', async () => {
    await client.chat.completions.create({
      model: 'default',
      messages: [{ role: 'user', content: QUESTION }],
    });
    const line = logLines.findLast((l) => l.route === '/v1/chat/completions')!;
    expect(line).toMatchObject({ status: 200, kb: 'default', found: true, mode: 'llm' });
    expect(line.tokens).toBeGreaterThan(0);
  });
});

describe('OpenAI-shaped errors', () => {
  it('an unknown model (knowledge base) is a 404 NotFoundError', async () => {
    for (const model of ['gpt-4o', 'kb:nope']) {
      const error = await client.chat.completions
        .create({ model, messages: [{ role: 'user', content: QUESTION }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect((error as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({
        type: 'invalid_request_error',
        code: 'not_found',
        param: null,
      });
    }
  });

  it('a request whose last message is not a user question is a 400 BadRequestError, streamed or not', async () => {
    for (const stream of [false, true]) {
      const error = await client.chat.completions
        .create({ model: 'default', messages: [{ role: 'assistant', content: 'Hi' }], stream })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as Error).message).toMatch(/last message must be a non-empty user message/);
    }
  });

  it('a provider failure after the stream started arrives as an error the client raises', async () => {
    fake.enqueue('chat', { status: 500, message: 'secret upstream text' });
    const stream = await client.chat.completions.create({
      model: 'default',
      messages: [{ role: 'user', content: QUESTION }],
      stream: true,
    });
    const error = await (async () => {
      for await (const _chunk of stream);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/model provider/);
    expect((error as Error).message).not.toMatch(/secret/);
  });
});

describe('the rules of /ask apply', () => {
  it('a question with a sensitive word is refused with content_blocked in the OpenAI shape', async () => {
    const file = join(kb.dir, 'blocked-words.txt');
    writeFileSync(file, 'payroll\n');
    const { app } = createTestApp(kb, { chat: fake, env: { SENSITIVE_WORDS_FILE: file } });
    const res = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        model: 'default',
        messages: [{ role: 'user', content: 'Show me the payroll' }],
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 'content_blocked', type: 'invalid_request_error', param: null },
    });
    expect(fake.requestsTo('chat')).toHaveLength(0);
  });

  it('API keys apply: none is a 401, a key not covering the knowledge base a 403, both in the OpenAI shape', async () => {
    const access = openTestAccess(kb.dir);
    try {
      const hr = access.key({ name: 'hr-only', kbs: ['hr'] });
      const { app } = createTestApp(kb, { chat: fake, access: access.store });
      const ask = (headers: Record<string, string>) =>
        app.request('/v1/chat/completions', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...headers },
          body: JSON.stringify({ model: 'default', messages: [{ role: 'user', content: QUESTION }] }),
        });
      const none = await ask({});
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({
        error: { type: 'authentication_error', code: 'unauthorized' },
      });
      const scoped = await ask(bearer(hr));
      expect(scoped.status).toBe(403);
      expect(await scoped.json()).toMatchObject({ error: { type: 'permission_error', code: 'forbidden' } });
    } finally {
      access.close();
    }
  });
});

describe('GET /v1/models', () => {
  it('lists default and every knowledge base as kb:NAME', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((m) => m.id)).toEqual(['default', 'kb:default']);
    expect(models[0]).toMatchObject({ object: 'model', owned_by: 'kb-answers' });
  });
});
