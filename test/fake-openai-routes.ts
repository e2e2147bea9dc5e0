/**
 * The route handlers of the fake OpenAI server (test/fake-openai.ts): they validate a body the way the
 * real API does where our code could get it wrong, and write the answer.
 */
import type { ServerResponse } from 'node:http';
import type { FakeBehaviour, FakeState } from './fake-openai.ts';
import {
  MAX_EMBEDDING_INPUTS,
  NATIVE_DIMENSIONS,
  errorBody,
  fakeEmbedding,
  lastUserMessage,
  messagesText,
  roughTokens,
  splitReply,
  toBase64,
} from './fake-openai-payloads.ts';

let nextId = 1;

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': `req_fake_${nextId++}`,
    ...headers,
  });
  res.end(text);
}

/**
 * An OpenAI-style error answer, with `Retry-After` / `retry-after-ms` and extra headers when given.
 *
 * @example
 * sendError(res, 429, { retryAfter: 1 });
 */
export function sendError(res: ServerResponse, status: number, behaviour: FakeBehaviour): void {
  const headers: Record<string, string> = { ...behaviour.headers };
  if (behaviour.retryAfter !== undefined) headers['retry-after'] = String(behaviour.retryAfter);
  if (behaviour.retryAfterMs !== undefined) headers['retry-after-ms'] = String(behaviour.retryAfterMs);
  sendJson(res, status, errorBody(status, behaviour.message), headers);
}

const INVALID_INPUT =
  "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";

function inputsOf(input: unknown): string[] | undefined {
  const one = (x: unknown) => (typeof x === 'string' ? x : Array.isArray(x) ? x.join(' ') : undefined);
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input)) return undefined;
  if (input.every((x) => typeof x === 'number')) return [input.join(' ')];
  const texts = input.map(one);
  return texts.every((t) => t !== undefined) ? (texts as string[]) : undefined;
}

/**
 * `POST /v1/embeddings`.
 *
 * @example
 * handleEmbeddings(state, { model: 'm', input: ['a', 'b'] }, res);
 */
export function handleEmbeddings(state: FakeState, body: Record<string, any>, res: ServerResponse): void {
  const inputs = inputsOf(body.input);
  if (typeof body.model !== 'string' || inputs === undefined || inputs.length === 0 || inputs.includes('')) {
    return sendError(res, 400, { message: INVALID_INPUT });
  }
  if (inputs.length > MAX_EMBEDDING_INPUTS) {
    return sendError(res, 400, { message: `'$.input' must have at most ${MAX_EMBEDDING_INPUTS} items` });
  }
  const requested: unknown = body.dimensions;
  if (requested !== undefined && !(Number.isInteger(requested) && (requested as number) > 0)) {
    return sendError(res, 400, { message: "'$.dimensions' must be a positive integer" });
  }
  const dimensions =
    (state.options.ignoreDimensions ? undefined : (requested as number | undefined)) ??
    NATIVE_DIMENSIONS[body.model] ??
    state.options.embeddingDimensions;
  const base64 = body.encoding_format === 'base64' && state.options.embeddingEncoding === 'auto';
  const tokens = inputs.reduce((sum, text) => sum + roughTokens(text), 0);
  sendJson(res, 200, {
    object: 'list',
    data: inputs.map((text, index) => {
      const vector = fakeEmbedding(text, dimensions);
      return { object: 'embedding', index, embedding: base64 ? toBase64(vector) : Array.from(vector) };
    }),
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

/**
 * `POST /v1/chat/completions`, as JSON or (with `stream: true`) as server-sent events.
 *
 * @example
 * await handleChat(state, { model: 'm', messages: [{ role: 'user', content: 'hi' }] }, res, {}, drop);
 */
export async function handleChat(
  state: FakeState,
  body: Record<string, any>,
  res: ServerResponse,
  behaviour: FakeBehaviour,
  drop: () => void,
): Promise<void> {
  if (typeof body.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0) {
    return sendError(res, 400, { message: "'messages' must be a non-empty array and 'model' a string" });
  }
  const content =
    behaviour.reply ??
    (typeof state.reply === 'string'
      ? state.reply
      : state.reply({ body, lastUserMessage: lastUserMessage(body.messages) }));
  const finishReason = behaviour.finishReason ?? 'stop';
  const promptTokens = roughTokens(messagesText(body.messages));
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: roughTokens(content),
    total_tokens: promptTokens + roughTokens(content),
  };
  const id = `chatcmpl-fake-${nextId++}`;
  const created = Math.floor(Date.now() / 1000);

  if (body.stream !== true) {
    return sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage,
    });
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model: body.model,
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    })}\n\n`;
  const delta = (d: Record<string, unknown>, finish: string | null = null) =>
    chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': `req_fake_${nextId++}`,
  });
  res.write(delta({ role: 'assistant', content: '', refusal: null }));
  const pieces = splitReply(content, state.options.chunkChars);
  // One step past the last piece, so a failure scripted after every piece still happens before the end.
  for (let i = 0; i <= pieces.length; i++) {
    if (i >= (behaviour.disconnectAfterChunks ?? Infinity)) return drop();
    // Stalled mid-answer: the connection stays open until the client gives up or the fake closes.
    if (i >= (behaviour.hangAfterChunks ?? Infinity)) return;
    if (i >= (behaviour.errorAfterChunks ?? Infinity)) {
      res.end(`data: ${JSON.stringify(errorBody(500, behaviour.message))}\n\n`);
      return;
    }
    const piece = pieces[i];
    if (piece === undefined) break;
    if (state.options.chunkDelayMs > 0) await state.sleep(state.options.chunkDelayMs);
    // The client went away (or the server is closing): stop producing, as a real provider would.
    if (res.destroyed || res.writableEnded) return;
    res.write(delta({ content: piece }));
  }
  res.write(delta({}, finishReason));
  if (includeUsage) res.write(chunk([], { usage }));
  res.end('data: [DONE]\n\n');
}

/** `GET /v1/models`: a short list, enough for a health check. */
export function handleModels(res: ServerResponse): void {
  const created = Math.floor(Date.now() / 1000);
  sendJson(res, 200, {
    object: 'list',
    data: ['gpt-4o-mini', ...Object.keys(NATIVE_DIMENSIONS)].map((id) => ({
      id,
      object: 'model',
      created,
      owned_by: 'fake-openai',
    })),
  });
}
