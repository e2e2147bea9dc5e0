import type { Config } from '../config.ts';
import { openAIClientFromConfig } from '../llm/from-config.ts';
import { createEmbedder } from './create.ts';
import type { Embedder } from './embedder.ts';

/**
 * The embedder the configuration asks for, shared by the ingest CLI, the server and the evaluation so all
 * three always embed alike.
 *
 * @throws Error with a one-line message when `EMBEDDING_PROVIDER=openai` has no `OPENAI_API_KEY`
 * @example
 * const embedder = embedderFromConfig(loadConfig());
 */
export function embedderFromConfig(config: Config, options: { fetch?: typeof fetch } = {}): Embedder {
  const openai = config.embedding.provider === 'openai' ? openAIClientFromConfig(config, options) : undefined;
  return createEmbedder({
    provider: config.embedding.provider,
    model: config.embedding.model,
    ...(config.embedding.dimensions ? { dimensions: config.embedding.dimensions } : {}),
    batchSize: config.embedding.batchSize,
    concurrency: config.embedding.concurrency,
    localDimensions: config.embedding.localDimensions,
    ...(openai ? { openai } : {}),
  });
}
