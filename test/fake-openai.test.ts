import OpenAI, { APIError, AuthenticationError, RateLimitError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI } from './fake-openai.ts';
import type { FakeOpenAI } from './fake-openai.ts';
import { fakeEmbedding } from './fake-openai-payloads.ts';

const messages = [
  { role: 'system' as const, content: 'Answer from the context.' },
  { role: 'user' as const, content: 'What is a knowledge base?' },
];

function clientFor(fake: FakeOpenAI, options: { maxRetries?: number; apiKey?: string } = {}): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey ?? 'sk-test-key',
    baseURL: fake.url,
    maxRetries: options.maxRetries ?? 0,
    timeout: 5000,
  });
}

describe('fake OpenAI server', () => {
  let fake: FakeOpenAI;
  beforeEach(async () => {
    fake = await startFakeOpenAI({ reply: 'A knowledge base answers questions [1].' });
  });
  afterEach(async () => {
    await fake.close();
  });

  it('streams a chat completion in several chunks, with a usage chunk, to the real SDK', async () => {
    const stream = await clientFor(fake).chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) pieces.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.join('')).toBe('A knowledge base answers questions [1].');
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
    expect(fake.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('answers a plain chat completion with a reply computed from the request', async () => {
    fake.setReply(({ lastUserMessage }) => `You asked: ${lastUserMessage}`);
    const completion = await clientFor(fake).chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('You asked: What is a knowledge base?');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
  });

  it('records every request with its unredacted headers and parsed body', async () => {
    await clientFor(fake, { apiKey: 'sk-visible' }).chat.completions.create({ model: 'm', messages });
    const [request] = fake.requests;
    expect(request).toMatchObject({
      route: 'chat',
      method: 'POST',
      path: '/v1/chat/completions',
      aborted: false,
    });
    expect(request?.headers.authorization).toBe('Bearer sk-visible');
    expect(request?.body.messages).toEqual(messages);
    expect(request?.status).toBe(200);
  });

  it('plays scripted failures in order on their own route, then answers normally', async () => {
    fake.enqueue('chat', { status: 429, retryAfterMs: 10, times: 2 }, { status: 500, retryAfterMs: 10 });
    const completion = await clientFor(fake, { maxRetries: 3 }).chat.completions.create({
      model: 'm',
      messages,
    });
    expect(completion.choices[0]?.message.content).toBe('A knowledge base answers questions [1].');
    expect(fake.requestsTo('chat').map((r) => r.status)).toEqual([429, 429, 500, 200]);
    await clientFor(fake).embeddings.create({ model: 'fake-embed', input: 'unaffected' });
    expect(fake.requestsTo('embeddings')[0]?.status).toBe(200);
    fake.enqueue('chat', { status: 500, times: Infinity });
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    await expect(clientFor(fake).chat.completions.create({ model: 'm', messages })).resolves.toBeTruthy();
  });

  it('sends OpenAI error bodies that the SDK turns into its error classes', async () => {
    fake.enqueue('chat', { status: 401, message: 'Incorrect API key provided' }, { status: 429 });
    const client = clientFor(fake);
    await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toBeInstanceOf(
      AuthenticationError,
    );
    const error = await client.chat.completions.create({ model: 'm', messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).code).toBe('rate_limit_exceeded');
  });

  it('rejects a wrong key with 401 when started with apiKey', async () => {
    const strict = await startFakeOpenAI({ apiKey: 'sk-right' });
    try {
      await expect(
        clientFor(strict, { apiKey: 'sk-wrong' }).chat.completions.create({ model: 'm', messages }),
      ).rejects.toBeInstanceOf(AuthenticationError);
      await expect(
        clientFor(strict, { apiKey: 'sk-right' }).chat.completions.create({ model: 'm', messages }),
      ).resolves.toBeTruthy();
    } finally {
      await strict.close();
    }
  });

  it('records aborted: true and stops streaming when the client aborts mid-stream', async () => {
    const slow = await startFakeOpenAI({
      reply: 'one two three four five six seven eight',
      chunkDelayMs: 50,
    });
    try {
      const controller = new AbortController();
      const stream = await clientFor(slow).chat.completions.create(
        { model: 'm', messages, stream: true },
        { signal: controller.signal },
      );
      let received = 0;
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) received += 1;
        if (received === 2) controller.abort();
      }
      await slow.waitUntil(() => slow.requests[0]?.aborted === true);
      expect(slow.requests[0]?.finishedAt).toBeDefined();
      expect(slow.inFlight()).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('records aborted: true when the client breaks out of the stream', async () => {
    const slow = await startFakeOpenAI({ reply: 'a b c d e f g h', chunkDelayMs: 30 });
    try {
      const stream = await clientFor(slow).chat.completions.create({ model: 'm', messages, stream: true });
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) break;
      await slow.waitUntil(() => slow.requests[0]?.aborted === true);
    } finally {
      await slow.close();
    }
  });

  it('breaks a stream by disconnecting or by an in-stream error event', async () => {
    fake.enqueue('chat', { disconnectAfterChunks: 2 }, { errorAfterChunks: 1, message: 'overloaded' });
    const client = clientFor(fake);
    const drain = async () => {
      const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    };
    await expect(drain()).rejects.toThrow();
    const error = await drain().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain('overloaded');
    expect(fake.requests.every((r) => !r.aborted)).toBe(true);
  });

  it('serves embeddings as base64 (the SDK default) and as floats, identical after decoding', async () => {
    const client = clientFor(fake);
    const viaBase64 = await client.embeddings.create({
      model: 'fake-embed',
      input: ['hello world', '知识库'],
    });
    const viaFloat = await client.embeddings.create({
      model: 'fake-embed',
      input: ['hello world', '知识库'],
      encoding_format: 'float',
    });
    expect(fake.requests[0]?.body.encoding_format).toBe('base64');
    expect(viaBase64.data.map((d) => d.embedding)).toEqual(viaFloat.data.map((d) => d.embedding));
    expect(viaFloat.data[0]?.embedding).toEqual(Array.from(fakeEmbedding('hello world', 16)));
    expect(viaFloat.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('gives OpenAI models their native length, honours dimensions, and rejects empty input', async () => {
    const client = clientFor(fake);
    const native = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    expect(native.data[0]?.embedding).toHaveLength(1536);
    const short = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'x',
      dimensions: 64,
    });
    expect(short.data[0]?.embedding).toHaveLength(64);
    await expect(client.embeddings.create({ model: 'fake-embed', input: ['ok', ''] })).rejects.toMatchObject({
      status: 400,
    });
  });

  it('hangs when asked and close() still returns promptly, failing the pending request', async () => {
    const hanging = await startFakeOpenAI();
    hanging.enqueue('embeddings', { hang: true });
    const pending = clientFor(hanging).embeddings.create({ model: 'm', input: 'x' });
    await hanging.waitUntil(() => hanging.inFlight('embeddings') === 1);
    const started = Date.now();
    await hanging.close();
    await expect(pending).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(hanging.requests[0]?.aborted).toBe(false);
  });

  it('answers unknown routes with 404 and lists models', async () => {
    const client = clientFor(fake);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('text-embedding-3-small');
    const response = await fetch(`${fake.url}/nope`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('no route');
  });
});
