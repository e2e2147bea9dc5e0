import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { Logger } from '../log.ts';
import type { AppEnv } from './app-env.ts';
import { errorResponse, type ErrorResponse } from './error-response.ts';

/** How one route writes its events, and a failure once the stream has started. */
export interface EventStreamOptions<E> {
  /** Starts producing events; aborting `signal` (the client went away) must cancel upstream work. */
  events: (signal: AbortSignal) => AsyncGenerator<E>;
  write: (stream: SSEStreamingApi, event: E) => Promise<void>;
  /** Writes a failure already mapped by `errorResponse`; the stream ends after it. */
  fail: (stream: SSEStreamingApi, error: ErrorResponse) => Promise<void>;
  logger: Logger;
  /** For the error body and the log line. */
  requestId: string;
}

/**
 * Sends a domain's events as server-sent events, for every route that streams answers (`/ask`,
 * `/v1/chat/completions`). The first event is awaited before the stream opens, so failures that come
 * before any output (unknown knowledge base, a question too long for the model) are ordinary HTTP errors;
 * failures after it are mapped by `errorResponse`, like `onError` would, and written by `fail`.
 *
 * A client that goes away aborts the signal given to `events`, which cancels the upstream model request.
 * Both signals are watched: Node's request signal fires when the socket closes, and `stream.onAbort` when
 * the response body is cancelled (the only one of the two that fires on some runtimes). The request's log
 * line waits for the stream to end (`responseDone`).
 *
 * @example
 * return streamEvents(c, { events: (signal) => answer(input, { signal }), write, fail, logger, requestId });
 */
export async function streamEvents<E>(c: Context<AppEnv>, options: EventStreamOptions<E>): Promise<Response> {
  const log = c.get('requestLog');
  const requestSignal = c.req.raw.signal;
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (requestSignal.aborted) abort();
  else requestSignal.addEventListener('abort', abort, { once: true });

  const events = options.events(controller.signal);
  let first: IteratorResult<E>;
  try {
    first = await events.next();
  } catch (error) {
    requestSignal.removeEventListener('abort', abort);
    throw error;
  }

  let finished!: () => void;
  c.set('responseDone', new Promise<void>((resolve) => (finished = resolve)));
  log.stream = true;

  const response = streamSSE(c, async (stream) => {
    stream.onAbort(abort);
    try {
      for (let result = first; !result.done; result = await events.next()) {
        await options.write(stream, result.value);
        // Writes to a closed stream are silently dropped; stop asking the model for more.
        if (controller.signal.aborted) break;
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      const mapped = errorResponse(error, options.requestId);
      log.error = mapped.body.error.code;
      if (mapped.status >= 500) {
        options.logger.error('answer failed', { requestId: options.requestId, status: mapped.status, error });
      }
      await options.fail(stream, mapped);
    } finally {
      if (controller.signal.aborted) {
        log.aborted = true;
        // Runs the generator's cleanup (its `finally` blocks) when we stopped pulling early.
        await events.return(undefined).catch(() => {});
      }
      requestSignal.removeEventListener('abort', abort);
      finished();
    }
  });
  // streamSSE sets `Cache-Control: no-cache`; `no-transform` also stops proxies from compressing (and so
  // buffering) the stream, and `X-Accel-Buffering: no` turns off nginx's response buffering. Set on both
  // the response and the context: when middleware (CORS) has touched `c.res` already, Hono copies that
  // earlier response's headers over the returned one's, and streamSSE's `no-cache` would win.
  for (const [name, value] of [
    ['Cache-Control', 'no-cache, no-transform'],
    ['X-Accel-Buffering', 'no'],
  ] as const) {
    response.headers.set(name, value);
    c.header(name, value);
  }
  return response;
}
