import type OpenAI from 'openai';
import pLimit from 'p-limit';
import { UpstreamError } from '../errors.ts';
import { mapProviderError } from '../llm/errors.ts';
import type { Embedder, EmbedOptions } from './embedder.ts';

export interface OpenAIEmbedderOptions {
  /** Built by `createOpenAIClient`, which owns timeouts and retries (429 honouring Retry-After, 5xx). */
  client: OpenAI;
  /** `EMBEDDING_MODEL`, e.g. `text-embedding-3-small`. */
  model: string;
  /** `EMBEDDING_DIMENSIONS`: sent to the API as `dimensions` only when set (text-embedding-3 models). */
  dimensions?: number;
  /** `EMBEDDING_BATCH_SIZE` (default 128): inputs per request, 1..2048 (the API's limit). */
  batchSize: number;
  /** `EMBEDDING_CONCURRENCY`: requests in flight at once for this embedder, across all `embed` calls. */
  concurrency: number;
}

/** Vector lengths of OpenAI's models without a `dimensions` parameter; others need one probe request. */
export const KNOWN_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/** The API's upper limit on inputs per request. */
const MAX_BATCH_SIZE = 2048;

/** What `dimensions()` embeds to learn an unknown model's vector length. */
const PROBE_TEXT = 'dimension probe';

/**
 * Decodes one returned embedding. We ask for base64 (little-endian float32, a quarter of the JSON size),
 * but some OpenAI-compatible servers ignore `encoding_format` and send float arrays, so both are accepted.
 */
function decode(embedding: unknown): Float32Array | undefined {
  if (Array.isArray(embedding)) return Float32Array.from(embedding as number[]);
  if (typeof embedding !== 'string') return undefined;
  const bytes = Buffer.from(embedding, 'base64');
  if (bytes.length % 4 !== 0) return undefined;
  // Copied into a fresh buffer: Buffer may hand out a pooled slice whose offset is not 4-byte aligned.
  const vector = new Float32Array(bytes.length / 4);
  new Uint8Array(vector.buffer).set(bytes);
  return vector;
}

/** Scales to unit length in place; a zero vector is left as it is. Rejects NaN and infinities. */
function normalise(vector: Float32Array): Float32Array | undefined {
  let sum = 0;
  for (const x of vector) sum += x * x;
  if (!Number.isFinite(sum)) return undefined;
  if (sum === 0) return vector;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < vector.length; i++) vector[i]! *= scale;
  return vector;
}

/**
 * An embedder over the OpenAI embeddings API (or a compatible server at `OPENAI_BASE_URL`).
 *
 * Inputs go out in batches of `batchSize`, at most `concurrency` requests at once; results come back in
 * input order, unit length, each checked to be `dimensions()` long. The first failing batch aborts its
 * siblings and its error is thrown, mapped by `mapProviderError` (503/502/504; an abort of
 * `options.signal` rethrows the SDK's `APIUserAbortError`). Empty strings, which the API rejects, are sent
 * as a single space. For a model outside `KNOWN_DIMENSIONS` without configured `dimensions`, the vector
 * length is learnt from the first response (or from one probe request if `dimensions()` comes first).
 *
 * @example
 * const embedder = createOpenAIEmbedder({ client, model: 'text-embedding-3-small', batchSize: 128, concurrency: 4 });
 * const [vector] = await embedder.embed(['How do I rebuild a knowledge base?']);
 */
export function createOpenAIEmbedder(options: OpenAIEmbedderOptions): Embedder {
  const { client, model } = options;
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > MAX_BATCH_SIZE) {
    throw new RangeError(`embedding batch size must be an integer from 1 to ${MAX_BATCH_SIZE}`);
  }
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new RangeError('embedding concurrency must be a positive integer');
  }
  const limit = pLimit(options.concurrency);
  let known: number | undefined = options.dimensions ?? KNOWN_DIMENSIONS[model];
  let probe: Promise<number> | undefined;

  /** One request: raw vectors in input order, or a thrown (mapped) error. */
  async function request(inputs: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    let response: OpenAI.CreateEmbeddingResponse;
    try {
      response = await client.embeddings.create(
        {
          model,
          input: inputs.map((text) => (text === '' ? ' ' : text)),
          encoding_format: 'base64',
          ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
        },
        signal ? { signal } : undefined,
      );
    } catch (error) {
      throw mapProviderError(error);
    }
    const vectors: (Float32Array | undefined)[] = new Array(inputs.length);
    for (const item of response.data ?? []) {
      if (Number.isInteger(item.index) && item.index >= 0 && item.index < inputs.length) {
        vectors[item.index] = decode(item.embedding);
      }
    }
    const result: Float32Array[] = [];
    for (const vector of vectors) {
      const unit = vector && normalise(vector);
      if (!unit) {
        throw new UpstreamError(
          `the embedding model "${model}" returned ${response.data?.length ?? 0} usable vectors for ` +
            `${inputs.length} inputs (missing, undecodable or not finite)`,
        );
      }
      result.push(unit);
    }
    return result;
  }

  function checkLength(vectors: Float32Array[]): void {
    known ??= vectors[0]?.length;
    const wrong = vectors.find((v) => v.length !== known);
    if (wrong) {
      throw new UpstreamError(
        `the embedding model "${model}" returned ${wrong.length}-dimensional vectors, expected ${known}; ` +
          'set EMBEDDING_DIMENSIONS to what the model produces',
      );
    }
  }

  return {
    provider: 'openai',
    model,
    batchSize: options.batchSize,

    knownDimensions() {
      return known;
    },

    dimensions() {
      if (known !== undefined) return Promise.resolve(known);
      // Cached while pending so concurrent callers share one probe; forgotten on failure so a later call
      // can try again once the provider is back.
      probe ??= limit(() => request([PROBE_TEXT], undefined)).then(
        (vectors) => {
          checkLength(vectors);
          return known!;
        },
        (error: unknown) => {
          probe = undefined;
          throw error;
        },
      );
      return probe;
    },

    async embed(texts: readonly string[], embedOptions: EmbedOptions = {}) {
      if (texts.length === 0) return [];
      // Our own controller so that the first failure cancels this call's other batches (in flight or
      // queued) without touching other callers sharing the limiter.
      const failed = new AbortController();
      const signal = embedOptions.signal
        ? AbortSignal.any([embedOptions.signal, failed.signal])
        : failed.signal;
      const batches: string[][] = [];
      for (let start = 0; start < texts.length; start += options.batchSize) {
        batches.push(texts.slice(start, start + options.batchSize));
      }
      try {
        const results = await Promise.all(
          batches.map((batch) =>
            limit(async () => {
              // A queued batch of a failed or aborted call is not sent; the SDK throws its abort error.
              if (!signal.aborted) embedOptions.onRequest?.(batch.length);
              const vectors = await request(batch, signal);
              checkLength(vectors);
              return vectors;
            }),
          ),
        );
        return results.flat();
      } catch (error) {
        failed.abort();
        throw error;
      }
    },
  };
}
