import type { AskRequest, ErrorBody, StreamEventName, StreamEvents } from '../shared/protocol.ts';
import { readSse } from '../shared/sse-parse.ts';

/**
 * The widget's client for a streamed `POST /ask`: `fetch` and a `ReadableStream` (the browser's
 * EventSource cannot POST), with the server-sent events parsed by the shared `readSse` and turned into
 * the typed events of the protocol.
 */

/** One event of the protocol, its name and payload kept together. */
export type StreamEvent = { [K in StreamEventName]: { event: K; data: StreamEvents[K] } }[StreamEventName];

const EVENT_NAMES: ReadonlySet<string> = new Set<StreamEventName>(['sources', 'delta', 'done', 'error']);

/**
 * A failed request: an HTTP error (with the server's code and message when it sent an error body), a
 * broken connection (`status` 0, code `network`), a stream that ended without `done` (`incomplete`) or a
 * body that is not the protocol (`bad_response`).
 */
export class AskError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;

  constructor(status: number, code: string, message: string, requestId?: string) {
    super(message);
    this.name = 'AskError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  const error = (value as Partial<ErrorBody> | null)?.error;
  return typeof error === 'object' && error !== null && typeof error.code === 'string';
}

/**
 * The typed events of a server-sent events body, in order. Unknown event names are skipped, so an older
 * widget keeps working with a newer server.
 *
 * @throws AskError `bad_response` when an event's data is not JSON
 * @example
 * for await (const e of parseStreamEvents(response.body!)) if (e.event === 'delta') show(e.data.text);
 */
export async function* parseStreamEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  for await (const message of readSse(body)) {
    if (!EVENT_NAMES.has(message.event)) continue;
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      throw new AskError(200, 'bad_response', `the "${message.event}" event is not JSON`);
    }
    yield { event: message.event, data } as StreamEvent;
  }
}

export interface AskStreamOptions {
  /** The `/ask` URL. */
  url: string;
  /** Sent as `Authorization: Bearer <key>` when set (`data-key`). */
  key?: string | undefined;
  /** The question; `stream` is forced to true. */
  request: AskRequest;
  /** Aborting it cancels the request (the server then cancels its model request). */
  signal?: AbortSignal;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
}

async function errorFromResponse(response: Response): Promise<AskError> {
  const requestId = response.headers.get('x-request-id') ?? undefined;
  const body: unknown = await response.json().catch(() => undefined);
  if (isErrorBody(body)) return new AskError(response.status, body.error.code, body.error.message, requestId);
  return new AskError(response.status, 'http_error', `the server answered ${response.status}`, requestId);
}

/**
 * Asks a question and yields the answer's events as they arrive: `sources`, `delta`s, then `done` or
 * `error`, which is always the last event.
 *
 * Without a key the body is sent as `text/plain`, which makes the request "simple" in CORS terms (no
 * preflight, one round trip less); the server reads it as JSON whatever its type.
 *
 * @throws AskError for HTTP errors, network failures and streams that end without `done` or `error`;
 *   an `AbortError` (a `DOMException`) when `signal` is aborted
 * @example
 * for await (const e of askStream({ url: 'https://kb.example/ask', request: { question: 'How?', kb: 'hr' } })) {
 *   if (e.event === 'delta') answer += e.data.text;
 * }
 */
export async function* askStream(options: AskStreamOptions): AsyncGenerator<StreamEvent> {
  const doFetch = options.fetch ?? fetch;
  const headers: Record<string, string> = { Accept: 'text/event-stream' };
  if (options.key) {
    headers['Content-Type'] = 'application/json';
    headers.Authorization = `Bearer ${options.key}`;
  } else {
    headers['Content-Type'] = 'text/plain;charset=UTF-8';
  }
  let response: Response;
  try {
    response = await doFetch(options.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...options.request, stream: true }),
      signal: options.signal ?? null,
      // The widget authenticates with its key, never with the visitor's cookies for the service.
      credentials: 'omit',
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    // Browsers report refused CORS requests and unreachable hosts alike, with no detail.
    throw new AskError(0, 'network', 'the knowledge base could not be reached');
  }
  if (!response.ok) throw await errorFromResponse(response);
  if (!response.body) throw new AskError(response.status, 'bad_response', 'the response has no body');

  try {
    for await (const event of parseStreamEvents(response.body)) {
      yield event;
      if (event.event === 'done' || event.event === 'error') return;
    }
  } catch (error) {
    if (error instanceof AskError || options.signal?.aborted) throw error;
    throw new AskError(0, 'network', 'the connection was lost');
  }
  throw new AskError(0, 'incomplete', 'the answer ended before it was complete');
}
