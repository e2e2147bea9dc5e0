import type { Histogram } from 'prom-client';
import type { ChatModel } from './chat.ts';

/**
 * Wraps a chat model so that each completion's duration, from the call to its last chunk (waiting for a
 * concurrency slot and retries included), is observed in seconds: `llm_request_duration_seconds`.
 * Failed and aborted completions are observed too: a slow failure is still time spent upstream.
 *
 * @example
 * const chat = timedChat(chatModelFromConfig(config), metrics.llmDuration);
 */
export function timedChat(chat: ChatModel, duration: Pick<Histogram, 'observe'>): ChatModel {
  return {
    async *stream(request, signal) {
      const started = performance.now();
      try {
        yield* chat.stream(request, signal);
      } finally {
        duration.observe((performance.now() - started) / 1000);
      }
    },
  };
}
