import type { Embedder, EmbedOptions } from './embedder.ts';
import { FeatureHasher } from './local-hasher.ts';
import type { FeatureWeights } from './local-hasher.ts';

/**
 * The local embedder's model name, stored with every knowledge base. Bump the version whenever the
 * features, hashing, weights or lexicon change: vectors of two versions are not comparable, and the
 * embedder check then asks for a rebuild instead of silently mixing them.
 */
export const LOCAL_MODEL = 'local-hash-v1';

/** Default vector length (`EMBEDDING_LOCAL_DIMENSIONS`). */
export const LOCAL_DEFAULT_DIMENSIONS = 384;
export const LOCAL_MIN_DIMENSIONS = 64;
export const LOCAL_MAX_DIMENSIONS = 4096;

/**
 * How the three feature groups are mixed (see local-hasher.ts). Tuned on SciFact at 384 dimensions:
 * character n-grams carry the most (they match across inflections and technical compounds), words add
 * precision, phrases a little more when fused with BM25.
 */
export const LOCAL_FEATURE_WEIGHTS: Readonly<FeatureWeights> = { word: 0.5, phrase: 0.2, char: 1 };

/**
 * Texts per batch: after each batch the embedder yields to the event loop (so a large ingest does not
 * stall a server sharing the process) and calls `onRequest`.
 */
const LOCAL_BATCH_SIZE = 64;

export interface LocalEmbedderOptions {
  /** Vector length, an integer from 64 to 4096; default 384. More dimensions mean fewer collisions. */
  dimensions?: number;
}

/**
 * An embedder that needs no network, key or model download: signed feature hashing of words, word
 * bigrams, character n-grams and CJK characters (see local-hasher.ts). Deterministic; unit-length
 * vectors, except all zeros for a text without any word or CJK character (e.g. '' or '---').
 *
 * @example
 * const embedder = createLocalEmbedder({ dimensions: 384 });
 * const [a, b] = await embedder.embed(['rebuild the index', 'rebuilding indexes']);
 */
export function createLocalEmbedder(options: LocalEmbedderOptions = {}): Embedder {
  const dimensions = options.dimensions ?? LOCAL_DEFAULT_DIMENSIONS;
  if (
    !Number.isInteger(dimensions) ||
    dimensions < LOCAL_MIN_DIMENSIONS ||
    dimensions > LOCAL_MAX_DIMENSIONS
  ) {
    throw new RangeError(
      `local embedding dimensions must be an integer from ${LOCAL_MIN_DIMENSIONS} to ${LOCAL_MAX_DIMENSIONS}`,
    );
  }
  const hasher = new FeatureHasher(dimensions, LOCAL_FEATURE_WEIGHTS);

  return {
    provider: 'local',
    model: LOCAL_MODEL,
    portable: { kind: 'local', dimensions, batchSize: LOCAL_BATCH_SIZE },
    dimensions: () => Promise.resolve(dimensions),
    knownDimensions: () => dimensions,
    async embed(texts: readonly string[], embedOptions: EmbedOptions = {}) {
      const vectors: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += LOCAL_BATCH_SIZE) {
        if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        embedOptions.signal?.throwIfAborted();
        const end = Math.min(start + LOCAL_BATCH_SIZE, texts.length);
        embedOptions.onRequest?.(end - start);
        for (let i = start; i < end; i++) vectors.push(hasher.embed(texts[i]!));
      }
      return vectors;
    },
  };
}
