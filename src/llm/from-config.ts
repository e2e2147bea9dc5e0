import type { Config } from '../config.ts';
import { createChatModel, type ChatModel } from './chat.ts';
import { createOpenAIClient } from './client.ts';

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
  const { apiKey, baseURL } = config.openai;
  if (!apiKey) return undefined;
  const client = createOpenAIClient({
    apiKey,
    ...(baseURL ? { baseURL } : {}),
    timeoutMs: config.chat.timeoutMs,
    maxRetries: config.chat.maxRetries,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return createChatModel(client, { concurrency: config.chat.concurrency, timeoutMs: config.chat.timeoutMs });
}
