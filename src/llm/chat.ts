import type OpenAI from 'openai';
import pLimit from 'p-limit';
import { UpstreamTimeoutError } from '../errors.ts';
import { mapProviderError } from './errors.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  topP?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  stop?: string[];
  /**
   * Whether the provider streams the answer (default true). A caller that only wants the whole answer
   * (a JSON `/ask`) passes false: one JSON response instead of a server-sent event per token costs both
   * sides less, and the pieces would only be collected anyway.
   */
  stream?: boolean;
}

/** A piece of a streamed completion: text as it arrives, and usage at the end when the provider sends it. */
export interface ChatChunk {
  text?: string;
  usage?: { promptTokens: number; completionTokens: number };
}

export interface ChatModel {
  /**
   * Streams a completion. Provider errors are mapped to our errors (503/502/504 family); aborting `signal`
   * cancels the upstream request and rethrows the SDK's abort error.
   */
  stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk>;
}

export interface ChatModelOptions {
  /** Requests in flight at once (`LLM_CONCURRENCY`); the rest wait in a first-in, first-out queue. */
  concurrency: number;
  /**
   * Deadline for a whole answer, retries and streaming included (`LLM_TIMEOUT_MS`). The SDK's own
   * timeout is per attempt, so a hanging provider with retries would otherwise take several times longer.
   */
  timeoutMs: number;
}

function usageOf(usage: OpenAI.CompletionUsage): NonNullable<ChatChunk['usage']> {
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
}

/**
 * Chat completions over the official SDK, streamed upstream unless the request says `stream: false`
 * (then the whole answer arrives as one piece), with a concurrency bound and one deadline per answer.
 *
 * @example
 * const chat = createChatModel(createOpenAIClient({ apiKey, timeoutMs: 60000, maxRetries: 2 }), { concurrency: 8, timeoutMs: 60000 });
 * for await (const chunk of chat.stream({ model: 'gpt-4o-mini', messages, maxTokens: 800, temperature: 0.2 })) {}
 */
export function createChatModel(client: OpenAI, options: ChatModelOptions): ChatModel {
  const limit = pLimit(options.concurrency);

  /** Resolves when a slot is free; the caller must call the returned release once done. */
  async function acquire(signal: AbortSignal | undefined): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => void limit(() => (resolve(), held)));
    if (signal) {
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      // A caller that gives up while queued frees its place: the slot is released as soon as it is taken.
      await Promise.race([started, aborted]).catch((error: unknown) => {
        release();
        throw error;
      });
    } else {
      await started;
    }
    return release;
  }

  return {
    async *stream(request, signal) {
      const release = await acquire(signal);
      // One controller for the upstream call, aborted by the caller or by the deadline, and released as
      // soon as the answer ends: `AbortSignal.timeout` + `AbortSignal.any` would keep every request's
      // signals (and what they reference) alive for the whole timeout, which under load reads as a leak.
      const upstream = new AbortController();
      let timedOut = false;
      const deadline = setTimeout(() => {
        timedOut = true;
        upstream.abort(new Error(`no answer within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      const forward = () => upstream.abort(signal?.reason);
      if (signal?.aborted) forward();
      signal?.addEventListener('abort', forward, { once: true });
      try {
        const params = {
          model: request.model,
          messages: request.messages,
          max_tokens: request.maxTokens,
          temperature: request.temperature,
          ...(request.topP === undefined ? {} : { top_p: request.topP }),
          ...(request.presencePenalty === undefined ? {} : { presence_penalty: request.presencePenalty }),
          ...(request.frequencyPenalty === undefined ? {} : { frequency_penalty: request.frequencyPenalty }),
          ...(request.stop && request.stop.length > 0 ? { stop: request.stop } : {}),
        };
        const callOptions = { signal: upstream.signal, timeout: options.timeoutMs };
        if (request.stream === false) {
          const completion = await client.chat.completions.create({ ...params, stream: false }, callOptions);
          const text = completion.choices[0]?.message?.content;
          if (text) yield { text };
          if (completion.usage) yield { usage: usageOf(completion.usage) };
          return;
        }
        const stream = await client.chat.completions.create(
          { ...params, stream: true, stream_options: { include_usage: true } },
          callOptions,
        );
        for await (const chunk of stream) {
          const text = chunk.choices[0]?.delta?.content;
          if (text) yield { text };
          if (chunk.usage) yield { usage: usageOf(chunk.usage) };
        }
        // The SDK's stream ends quietly when aborted mid-answer, as if the answer were complete: without
        // this a stalled provider or a client hanging up left a cut-off answer reported as done (and
        // cached). Thrown here, it is mapped below like any abort.
        if (upstream.signal.aborted) throw upstream.signal.reason;
      } catch (error) {
        if (signal?.aborted) throw error;
        if (timedOut) throw new UpstreamTimeoutError(undefined, { cause: error });
        throw mapProviderError(error);
      } finally {
        clearTimeout(deadline);
        signal?.removeEventListener('abort', forward);
        release();
      }
    },
  };
}
