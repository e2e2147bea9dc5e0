import type { Config } from '../config.ts';
import { createChatModel, type ChatModel } from './chat.ts';
import type OpenAI from 'openai';
import { createOpenAIClient } from './client.ts';

/**
 * The OpenAI client the configuration describes (key, base URL, per-attempt timeout and retries), or
 * `undefined` without `OPENAI_API_KEY`. Chat and embeddings both build theirs here, so they always talk to
 * the provider alike.
 *
 * @example
 * const client = openAIClientFromConfig(loadConfig());
 */
export function openAIClientFromConfig(
  config: Config,
  options: { fetch?: typeof fetch } = {},
): OpenAI | undefined {
  const { apiKey, baseURL } = config.openai;
  if (!apiKey) return undefined;
  return createOpenAIClient({
    apiKey,
    ...(baseURL ? { baseURL } : {}),
    timeoutMs: config.chat.timeoutMs,
    maxRetries: config.chat.maxRetries,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/**
 * The chat model the configuration asks for, or `undefined` without `OPENAI_API_KEY` (answers are then
 * extractive). Shared by the server and the tests so both talk to the provider alike.
 *
 * @example
 * const chat = chatModelFromConfig(loadConfig());
 */
export function chatModelFromConfig(
  config: Config,
  options: { fetch?: typeof fetch } = {},
): ChatModel | undefined {
  const client = openAIClientFromConfig(config, options);
  if (!client) return undefined;
  return createChatModel(client, { concurrency: config.chat.concurrency, timeoutMs: config.chat.timeoutMs });
}
