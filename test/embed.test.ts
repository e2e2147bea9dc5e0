import { APIUserAbortError, AuthenticationError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAIEmbedder } from '../src/embed/openai.ts';
import type { OpenAIEmbedderOptions } from '../src/embed/openai.ts';
import { AppError, UpstreamError, UpstreamTimeoutError, UpstreamUnavailableError } from '../src/errors.ts';
import { createOpenAIClient } from '../src/llm/client.ts';
import { mapProviderError } from '../src/llm/errors.ts';
import { startFakeOpenAI } from './fake-openai.ts';
import type { FakeOpenAI } from './fake-openai.ts';
import { fakeEmbedding } from './fake-openai-payloads.ts';

let fake: FakeOpenAI;
beforeEach(async () => {
  fake = await startFakeOpenAI();
});
afterEach(async () => {
  await fake.close();
});

function embedder(
  options: Partial<OpenAIEmbedderOptions> & { timeoutMs?: number; maxRetries?: number; apiKey?: string } = {},
) {
  const { timeoutMs = 5000, maxRetries = 2, apiKey = 'sk-test-key', ...rest } = options;
  const client = createOpenAIClient({ apiKey, baseURL: fake.url, timeoutMs, maxRetries });
  return createOpenAIEmbedder({ client, model: 'fake-embed', batchSize: 128, concurrency: 4, ...rest });
}

function texts(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `passage number ${i} about topic ${i % 7}`);
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('OpenAI embedder against the fake server', () => {
  it('splits 300 inputs into batches of 128 and returns vectors in input order', async () => {
    const inputs = texts(300);
    const sizes: number[] = [];
    const vectors = await embedder().embed(inputs, { onRequest: (n) => sizes.push(n) });
    expect(sizes).toEqual([128, 128, 44]);
    expect(
      fake
        .requestsTo('embeddings')
        .map((r) => r.body.input.length)
        .sort(),
    ).toEqual([128, 128, 44].sort());
    expect(vectors).toHaveLength(300);
    vectors.forEach((vector, i) => expect(vector).toEqual(fakeEmbedding(inputs[i]!, 16)));
  });

  it('keeps input order when later batches answer first', async () => {
    fake.enqueue('embeddings', { delayMs: 150 }, { delayMs: 75 }, { delayMs: 0 });
    const inputs = texts(30);
    const vectors = await embedder({ batchSize: 10 }).embed(inputs);
    vectors.forEach((vector, i) => expect(vector).toEqual(fakeEmbedding(inputs[i]!, 16)));
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const slow = await startFakeOpenAI({ latencyMs: 100 });
    try {
      const client = createOpenAIClient({ apiKey: 'k', baseURL: slow.url, timeoutMs: 5000, maxRetries: 0 });
      const limited = createOpenAIEmbedder({ client, model: 'm', batchSize: 5, concurrency: 3 });
      // Two calls share the embedder's limit, as concurrent documents do during an ingest.
      await Promise.all([limited.embed(texts(40)), limited.embed(texts(20))]);
      expect(slow.requests).toHaveLength(12);
      expect(slow.maxInFlight('embeddings')).toBe(3);
    } finally {
      await slow.close();
    }
  });

  it('sends the key as a bearer token, base64 encoding, and no dimensions unless configured', async () => {
    await embedder({ apiKey: 'sk-secret-123' }).embed(['hello']);
    const [request] = fake.requests;
    expect(request?.headers.authorization).toBe('Bearer sk-secret-123');
    expect(request?.body).toMatchObject({ model: 'fake-embed', input: ['hello'], encoding_format: 'base64' });
    expect(request?.body).not.toHaveProperty('dimensions');
  });

  it('passes configured dimensions to the API and checks the vectors against them', async () => {
    const short = embedder({ model: 'text-embedding-3-small', dimensions: 256 });
    expect(await short.dimensions()).toBe(256);
    const [vector] = await short.embed(['hello']);
    expect(fake.requests[0]?.body.dimensions).toBe(256);
    expect(vector).toHaveLength(256);
  });

  it('rejects vectors of the wrong length with a message naming both lengths', async () => {
    const ignoring = await startFakeOpenAI({ ignoreDimensions: true });
    try {
      const client = createOpenAIClient({
        apiKey: 'k',
        baseURL: ignoring.url,
        timeoutMs: 5000,
        maxRetries: 0,
      });
      const wrong = createOpenAIEmbedder({
        client,
        model: 'm',
        dimensions: 64,
        batchSize: 8,
        concurrency: 1,
      });
      const error = await failure(wrong.embed(['hello']));
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as Error).message).toMatch(/16-dimensional vectors, expected 64/);
    } finally {
      await ignoring.close();
    }
  });

  it('knows the dimensions of OpenAI models without a request', async () => {
    expect(await embedder({ model: 'text-embedding-3-large' }).dimensions()).toBe(3072);
    expect(await embedder({ model: 'text-embedding-ada-002' }).dimensions()).toBe(1536);
    expect(fake.requests).toHaveLength(0);
  });

  it('probes an unknown model once for its dimensions and caches the answer', async () => {
    const unknown = embedder();
    const [first, second] = await Promise.all([unknown.dimensions(), unknown.dimensions()]);
    expect([first, second, await unknown.dimensions()]).toEqual([16, 16, 16]);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.body.input).toEqual(['dimension probe']);
  });

  it('learns an unknown model’s dimensions from its first embeddings without a probe', async () => {
    const unknown = embedder();
    await unknown.embed(['a text']);
    expect(await unknown.dimensions()).toBe(16);
    expect(fake.requests).toHaveLength(1);
  });

  it('sends empty strings as a space, which the API accepts, and returns unit vectors', async () => {
    const vectors = await embedder().embed(['', 'text']);
    expect(fake.requests[0]?.body.input).toEqual([' ', 'text']);
    for (const vector of vectors) {
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    }
  });

  it('accepts float arrays from servers that ignore encoding_format', async () => {
    const floats = await startFakeOpenAI({ embeddingEncoding: 'float' });
    try {
      const client = createOpenAIClient({ apiKey: 'k', baseURL: floats.url, timeoutMs: 5000, maxRetries: 0 });
      const [vector] = await createOpenAIEmbedder({ client, model: 'm', batchSize: 8, concurrency: 1 }).embed(
        ['hello world'],
      );
      expect(vector).toEqual(fakeEmbedding('hello world', 16));
    } finally {
      await floats.close();
    }
  });

  it('waits as long as Retry-After says on 429, then succeeds (the SDK retries)', async () => {
    fake.enqueue('embeddings', { status: 429, retryAfter: 1 });
    const started = Date.now();
    const vectors = await embedder().embed(['hello']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(vectors).toHaveLength(1);
    const [limited, retried] = fake.requests;
    expect(limited?.status).toBe(429);
    expect(retried!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(900);
  });

  it('does not sleep through a Retry-After above the cap: fails at once with 503', async () => {
    fake.enqueue('embeddings', { status: 429, retryAfter: 3600 });
    const started = Date.now();
    const error = await failure(embedder().embed(['hello']));
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(fake.requests).toHaveLength(1);
  });

  it('maps a 500 that persists through the retries to 502, after retrying it', async () => {
    fake.enqueue('embeddings', { status: 500, retryAfterMs: 5, times: 3 });
    const error = await failure(embedder({ maxRetries: 2 }).embed(['hello']));
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as AppError).status).toBe(502);
    expect(fake.requests).toHaveLength(3);
  });

  it('maps a 429 or 503 that persists through the retries to 503', async () => {
    for (const status of [429, 503]) {
      fake.reset();
      fake.enqueue('embeddings', { status, retryAfterMs: 5, times: 3 });
      const error = await failure(embedder({ maxRetries: 2 }).embed(['hello']));
      expect(error).toBeInstanceOf(UpstreamUnavailableError);
      expect((error as AppError).status).toBe(503);
      expect(fake.requests).toHaveLength(3);
    }
  });

  it('maps a hanging provider to 504 after the timeout', async () => {
    fake.enqueue('embeddings', { hang: true });
    const started = Date.now();
    const error = await failure(embedder({ timeoutMs: 300, maxRetries: 0 }).embed(['hello']));
    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    expect((error as AppError).status).toBe(504);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('maps a dropped connection to 503', async () => {
    fake.enqueue('embeddings', { disconnect: true });
    const error = await failure(embedder({ maxRetries: 0 }).embed(['hello']));
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
  });

  it('maps 401 to 502 without the provider’s message in ours, keeping it as the cause', async () => {
    fake.enqueue('embeddings', { status: 401, message: 'Incorrect API key provided: sk-abc***xyz' });
    const error = await failure(embedder().embed(['hello']));
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as AppError).status).toBe(502);
    expect((error as Error).message).not.toMatch(/Incorrect|sk-abc/);
    expect((error as Error).cause).toBeInstanceOf(AuthenticationError);
    expect(fake.requests).toHaveLength(1);
  });

  it('cancels the other in-flight batches of a call when one batch fails', async () => {
    fake.enqueue('embeddings', { delayMs: 1000 }, { status: 400 });
    const error = await failure(embedder({ batchSize: 1, concurrency: 2 }).embed(['slow', 'bad']));
    expect(error).toBeInstanceOf(UpstreamError);
    await fake.waitUntil(() => fake.requests[0]?.aborted === true);
  });

  it('rethrows the SDK abort error and cancels the upstream request when the caller aborts', async () => {
    fake.enqueue('embeddings', { hang: true });
    const controller = new AbortController();
    const pending = embedder().embed(['hello'], { signal: controller.signal });
    await fake.waitUntil(() => fake.inFlight('embeddings') === 1);
    controller.abort();
    expect(await failure(pending)).toBeInstanceOf(APIUserAbortError);
    await fake.waitUntil(() => fake.requests[0]?.aborted === true);
  });
});

describe('mapProviderError', () => {
  it('returns our errors unchanged and rethrows aborts and non-provider errors as they are', () => {
    const ours = new UpstreamError();
    expect(mapProviderError(ours)).toBe(ours);
    const abort = new APIUserAbortError();
    expect(() => mapProviderError(abort)).toThrow(abort);
    const bug = new RangeError('our own bug');
    expect(() => mapProviderError(bug)).toThrow(bug);
  });
});
