import { Hono } from 'hono';
import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { InvalidRequestError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { answerQuestion, type AnswerDeps, type AnswerEvent, type AnswerInput } from '../rag/answer.ts';
import type { AskResponse, StreamEventName, StreamEvents } from '../shared/protocol.ts';
import type { AppEnv, RequestLogFields } from './app-env.ts';
import { askRequestSchema, type AskLimits } from './ask-schema.ts';
import { errorResponse } from './error-response.ts';

export interface AskRouteDeps {
  answer: AnswerDeps;
  limits: AskLimits;
  logger: Logger;
}

/** Reads the body as JSON whatever its Content-Type (a widget may send `text/plain` to skip a CORS preflight). */
async function readJson(c: Context<AppEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch (error) {
    throw new InvalidRequestError('body: expected valid JSON', { cause: error });
  }
}

/** Writes one event of the protocol; the types keep the event name and its payload together. */
function send<K extends StreamEventName>(
  stream: SSEStreamingApi,
  event: K,
  data: StreamEvents[K],
): Promise<void> {
  return stream.writeSSE({ event, data: JSON.stringify(data) });
}

function recordAnswer(log: RequestLogFields, response: AskResponse): void {
  log.found = response.found;
  log.mode = response.mode;
  log.tokens = response.usage.totalTokens;
}

async function sendEvent(stream: SSEStreamingApi, event: AnswerEvent, log: RequestLogFields): Promise<void> {
  if (event.type === 'sources') return send(stream, 'sources', { sources: event.sources });
  if (event.type === 'delta') return send(stream, 'delta', { text: event.text });
  recordAnswer(log, event.response);
  return send(stream, 'done', event.response);
}

/**
 * Answers as server-sent events. The first event is awaited before the stream opens, so failures that
 * come before any output (unknown knowledge base, a question too long for the model) are ordinary HTTP
 * errors; failures after it become an `error` event mapped by `errorResponse`, like `onError` would.
 *
 * A client that goes away aborts `controller`, which cancels the upstream model request. Both signals
 * are watched: Node's request signal fires when the socket closes, and `stream.onAbort` when the response
 * body is cancelled (the only one of the two that fires on some runtimes).
 */
async function streamAnswer(c: Context<AppEnv>, deps: AskRouteDeps, input: AnswerInput): Promise<Response> {
  const log = c.get('requestLog');
  const requestSignal = c.req.raw.signal;
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  if (requestSignal.aborted) abort();
  else requestSignal.addEventListener('abort', abort, { once: true });

  const events = answerQuestion(deps.answer, input, { signal: controller.signal });
  let first: IteratorResult<AnswerEvent>;
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
        await sendEvent(stream, result.value, log);
        // Writes to a closed stream are silently dropped; stop asking the model for more.
        if (controller.signal.aborted) break;
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      const { status, body } = errorResponse(error, input.id);
      log.error = body.error.code;
      if (status >= 500) deps.logger.error('answer failed', { requestId: input.id, status, error });
      await send(stream, 'error', body);
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

/** Consumes the events and returns the `done` response as JSON; a closed client aborts the answer. */
async function jsonAnswer(c: Context<AppEnv>, deps: AskRouteDeps, input: AnswerInput): Promise<Response> {
  let response: AskResponse | undefined;
  for await (const event of answerQuestion(deps.answer, input, { signal: c.req.raw.signal })) {
    if (event.type === 'done') response = event.response;
  }
  if (!response) throw new Error('the answer ended without a done event');
  recordAnswer(c.get('requestLog'), response);
  return c.json(response);
}

/**
 * `POST /ask`: validates the body, then answers as JSON, or as server-sent events when the body says
 * `"stream": true` or (without a `stream` field) the `Accept` header includes `text/event-stream`.
 * The request id is the answer's `id`.
 *
 * @example
 * app.route('/', createAskRoute({ answer, limits: config.answer, logger }));
 */
export function createAskRoute(deps: AskRouteDeps): Hono<AppEnv> {
  const schema = askRequestSchema(deps.limits);
  return new Hono<AppEnv>().post('/ask', async (c) => {
    const ask = schema.parse(await readJson(c));
    c.get('requestLog').kb = ask.kb;
    const input: AnswerInput = {
      question: ask.question,
      kb: ask.kb,
      history: ask.history,
      topK: ask.topK,
      temperature: ask.temperature,
      model: ask.model,
      id: c.get('requestId'),
    };
    const stream = ask.stream ?? c.req.header('accept')?.includes('text/event-stream') ?? false;
    return stream ? streamAnswer(c, deps, input) : jsonAnswer(c, deps, input);
  });
}
