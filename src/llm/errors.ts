import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from 'openai';
import { AppError, UpstreamError, UpstreamTimeoutError, UpstreamUnavailableError } from '../errors.ts';

/**
 * Statuses that mean "not now" (rate limited, overloaded, unavailable): still failing after the SDK's
 * retries, they are 503 `upstream_unavailable`. Other 5xx (a provider bug, 500) are the provider answering
 * with an error: 502 `upstream_error`, like a 4xx.
 */
function isUnavailableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status === 503 || status === 529;
}

/** undici's errors when a connection drops mid-response (`terminated`) or cannot be made (`fetch failed`). */
function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError && (error.message === 'terminated' || error.message === 'fetch failed');
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Maps an error from an OpenAI SDK call to our error family, for `throw mapProviderError(error)` in a
 * `catch` around a provider call. Our messages never include the provider's text (it may echo a key
 * prefix, a prompt or internal details); the SDK error is kept as `cause` for the log.
 *
 * - `APIUserAbortError` (our caller aborted, e.g. the browser went away) and a bare `AbortError` are
 *   rethrown as they are: a client disconnect is not an upstream failure.
 * - `APIConnectionTimeoutError` → `UpstreamTimeoutError` (504).
 * - `APIConnectionError`, a dropped connection, and 408/409/429/503/529 still failing after the SDK's
 *   retries → `UpstreamUnavailableError` (503): rate limited or down.
 * - Any other `APIError` (400, 401, 403, 404, 422, 500, 502, an error event inside a stream), other SDK
 *   errors and a stream event that is not JSON → `UpstreamError` (502), naming only the status.
 * - An `AppError` is returned unchanged; anything else (a bug of ours) is rethrown unchanged, so it
 *   surfaces as a 500 rather than being blamed on the provider.
 *
 * @example
 * try {
 *   await client.embeddings.create({ model, input });
 * } catch (error) {
 *   throw mapProviderError(error);
 * }
 */
export function mapProviderError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof APIUserAbortError || isAbortError(error)) throw error;
  if (error instanceof APIConnectionTimeoutError)
    return new UpstreamTimeoutError(undefined, { cause: error });
  if (error instanceof APIConnectionError || isNetworkError(error)) {
    return new UpstreamUnavailableError(undefined, { cause: error });
  }
  if (error instanceof APIError) {
    if (error.status !== undefined && isUnavailableStatus(error.status)) {
      return new UpstreamUnavailableError(
        `the model provider is unavailable (HTTP ${error.status}); try again shortly`,
        { cause: error },
      );
    }
    const status = error.status === undefined ? '' : ` (HTTP ${error.status})`;
    return new UpstreamError(`the model provider returned an error${status}`, { cause: error });
  }
  // The SDK throws a SyntaxError for a stream event that is not JSON: the provider's fault, not ours.
  if (error instanceof OpenAIError || error instanceof SyntaxError) {
    return new UpstreamError(undefined, { cause: error });
  }
  throw error;
}
