import OpenAI from 'openai';

export interface OpenAIClientOptions {
  /** `OPENAI_API_KEY`. Sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** `OPENAI_BASE_URL`, for OpenAI-compatible servers; default `https://api.openai.com/v1`. */
  baseURL?: string;
  /**
   * `LLM_TIMEOUT_MS`: per attempt, until the response headers arrive. The SDK clears its timer once
   * `fetch` resolves (client.ts `fetchWithTimeout`), so a stream that stalls after its headers is not
   * covered: callers that stream set their own deadline.
   */
  timeoutMs: number;
  /** `LLM_MAX_RETRIES`: retries after the first attempt; 0 disables them. */
  maxRetries: number;
  /** A `fetch` implementation, for tests; default the global one. */
  fetch?: typeof fetch;
}

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/**
 * The longest `Retry-After` we wait for. openai-node v6 sleeps for whatever the server asks, with no upper
 * bound (v4 fell back to its own backoff above 60 s), and that sleep ignores the request's abort signal
 * and timeout. A provider asking for minutes is out of quota rather than briefly busy, so we fail at once.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Milliseconds the response asks us to wait, read as the SDK reads it (`retry-after-ms` first). */
function retryAfterMs(headers: Headers): number | undefined {
  const ms = parseFloat(headers.get('retry-after-ms') ?? '');
  if (!Number.isNaN(ms)) return ms;
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = parseFloat(value);
  return Number.isNaN(seconds) ? Date.parse(value) - Date.now() : seconds * 1000;
}

/**
 * Wraps `fetch` so that an error response asking for a wait over `MAX_RETRY_AFTER_MS` carries
 * `x-should-retry: false`, a header the SDK obeys before any other retry rule: it then throws at once
 * (a RateLimitError, which `mapProviderError` turns into a 503) instead of sleeping.
 */
function capRetryAfter(baseFetch: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await baseFetch(input, init);
    if (response.ok) return response;
    const wait = retryAfterMs(response.headers);
    if (wait === undefined || wait <= MAX_RETRY_AFTER_MS) return response;
    const headers = new Headers(response.headers);
    headers.set('x-should-retry', 'false');
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/**
 * The one place that builds the OpenAI client; chat and embeddings both take the client it returns.
 *
 * Retries are the SDK's own (openai-node v6, `src/client.ts`): `shouldRetry` retries 408, 409, 429 and
 * every status >= 500, plus connection errors and timeouts, unless the response says `x-should-retry`;
 * `retryRequest` waits for `retry-after-ms`, else `Retry-After` (seconds or an HTTP date), else
 * `calculateDefaultRetryTimeoutMillis`: 0.5 s doubling per retry, at most 8 s, minus up to 25 % jitter.
 * A streamed request is retried only until its response headers arrive. Waits above
 * `MAX_RETRY_AFTER_MS` are not honoured: see `capRetryAfter`.
 *
 * Everything the SDK would otherwise read from the environment (`OPENAI_BASE_URL`, `OPENAI_ORG_ID`,
 * `OPENAI_PROJECT_ID`, `OPENAI_LOG`, ...) is passed explicitly, because `config.ts` is the only reader
 * of `process.env`. (`OPENAI_CUSTOM_HEADERS` is still read by the SDK; no option turns that off.)
 *
 * @example
 * const client = createOpenAIClient({ apiKey: 'sk-...', timeoutMs: 60_000, maxRetries: 2 });
 * const { data } = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['hello'] });
 */
export function createOpenAIClient(options: OpenAIClientOptions): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey,
    adminAPIKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    baseURL: options.baseURL ?? DEFAULT_BASE_URL,
    timeout: options.timeoutMs,
    maxRetries: options.maxRetries,
    logLevel: 'warn',
    fetch: capRetryAfter(options.fetch ?? globalThis.fetch),
  });
}
