import type OpenAI from 'openai';
import { EmbedderMismatchError } from '../errors.ts';
import { describeEmbedder } from './embedder.ts';
import type { Embedder, EmbedderInfo } from './embedder.ts';
import { createLocalEmbedder } from './local.ts';
import { createOpenAIEmbedder } from './openai.ts';

/** What `createEmbedder` needs, from the validated config (`EMBEDDING_*`) plus the shared OpenAI client. */
export interface EmbedderSettings {
  /** `EMBEDDING_PROVIDER`. */
  provider: 'openai' | 'local';
  /** `EMBEDDING_MODEL`: the OpenAI model; the local embedder has its own versioned name. */
  model: string;
  /** `EMBEDDING_DIMENSIONS`: sent to OpenAI when set. */
  dimensions?: number;
  /** `EMBEDDING_BATCH_SIZE`: inputs per OpenAI request. */
  batchSize: number;
  /** `EMBEDDING_CONCURRENCY`: OpenAI requests in flight at once. */
  concurrency: number;
  /** `EMBEDDING_LOCAL_DIMENSIONS`: the local embedder's vector length. */
  localDimensions: number;
  /** Built by `createOpenAIClient`; required by the `openai` provider. */
  openai?: OpenAI;
}

/** The one-line message for the `openai` provider without a key: the CLIs print it as it is. */
export const MISSING_KEY_MESSAGE =
  'EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY; set it, or use EMBEDDING_PROVIDER=local';

/** Builders by provider name; a new provider is one more entry here. */
const PROVIDERS: Record<EmbedderSettings['provider'], (settings: EmbedderSettings) => Embedder> = {
  openai(settings) {
    if (!settings.openai) throw new Error(MISSING_KEY_MESSAGE);
    return createOpenAIEmbedder({
      client: settings.openai,
      model: settings.model,
      ...(settings.dimensions === undefined ? {} : { dimensions: settings.dimensions }),
      batchSize: settings.batchSize,
      concurrency: settings.concurrency,
    });
  },
  local: (settings) => createLocalEmbedder({ dimensions: settings.localDimensions }),
};

/**
 * The embedder for a provider name.
 *
 * @throws Error (a plain one, with a one-line message) for `openai` without a client
 * @example
 * const embedder = createEmbedder({ provider: 'local', model: '', batchSize: 128, concurrency: 4, localDimensions: 384 });
 */
export function createEmbedder(settings: EmbedderSettings): Embedder {
  const build = PROVIDERS[settings.provider];
  if (!build) throw new Error(`unknown EMBEDDING_PROVIDER "${settings.provider}"; use openai or local`);
  return build(settings);
}

/**
 * Refuses to use a knowledge base with an embedder other than the one it was built with: vectors of two
 * embedders (or of one model at two lengths) are not comparable.
 *
 * @throws EmbedderMismatchError (409) naming both embedders and how to rebuild
 * @example
 * assertSameEmbedder('default', stored, { provider: embedder.provider, model: embedder.model, dimensions: 384 });
 */
export function assertSameEmbedder(kbName: string, stored: EmbedderInfo, current: EmbedderInfo): void {
  if (
    stored.provider !== current.provider ||
    stored.model !== current.model ||
    stored.dimensions !== current.dimensions
  ) {
    throw new EmbedderMismatchError(kbName, describeEmbedder(stored), describeEmbedder(current));
  }
}
