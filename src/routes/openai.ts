import { Hono } from 'hono';
import type { Context } from 'hono';
import type { SSEStreamingApi } from 'hono/streaming';
import type { Logger } from '../log.ts';
import type { AnswerEvent, AnswerInput } from '../rag/answer.ts';
import type { Answerer } from '../rag/answerer.ts';
import type { AskResponse } from '../shared/protocol.ts';
import type { Store } from '../store/store.ts';
import type { BlockedWordTest } from '../text/blocked-words.ts';
import type { AppEnv } from './app-env.ts';
import { admitQuestion, recordAnswer } from './ask.ts';
import type { AskLimits } from './ask-schema.ts';
import { streamEvents } from './event-stream.ts';
import { chatCompletionsSchema, chatQuestion } from './openai-schema.ts';
import {
  chatCompletion,
  chatCompletionChunk,
  completionMeta,
  modelList,
  openAIError,
  type ChunkParts,
  type CompletionMeta,
} from './openai-shapes.ts';
import { readJson } from './read-json.ts';

/**
 * The OpenAI-compatible API, so chat clients that speak it can use a knowledge base as a "model":
 * `POST /v1/chat/completions` (plain and streamed) and `GET /v1/models`. Answers go through the same
 * answerer as `/ask` (cache, metrics) and are logged alike; errors are mapped by `errorResponse` and sent
 * in OpenAI's shape (`app.ts` does it for errors thrown before a stream starts).
 */

export interface OpenAIRouteDeps {
  /** The answerer `/ask` uses. */
  answer: Answerer;
  store: Pick<Store, 'listKnowledgeBases'>;
  limits: AskLimits;
  logger: Logger;
  /** The sensitive-word check of `/ask` (`SENSITIVE_WORDS_FILE`); none by default. */
  blocked?: BlockedWordTest | undefined;
}

interface StreamSettings {
  meta: CompletionMeta;
  includeUsage: boolean;
}

function writeChunk(stream: SSEStreamingApi, settings: StreamSettings, parts: ChunkParts): Promise<void> {
  return stream.writeSSE({
    data: JSON.stringify(chatCompletionChunk(settings.meta, parts, settings.includeUsage)),
  });
}

/**
 * The chunks of one answer event: the role first (with the sources event, which comes before any text),
 * a content chunk per delta, and at the end the `finish_reason` chunk, the usage chunk when asked for,
 * and `[DONE]`. `sources` rides on the last chunk before `[DONE]`.
 */
async function writeEvent(
  stream: SSEStreamingApi,
  settings: StreamSettings,
  event: AnswerEvent,
  log: AppEnv['Variables']['requestLog'],
): Promise<void> {
  if (event.type === 'sources')
    return writeChunk(stream, settings, { delta: { role: 'assistant', content: '' } });
  if (event.type === 'delta') return writeChunk(stream, settings, { delta: { content: event.text } });
  const { response } = event;
  recordAnswer(log, response);
  const sources = response.sources;
  await writeChunk(stream, settings, {
    delta: {},
    finishReason: 'stop',
    ...(settings.includeUsage ? {} : { sources }),
  });
  if (settings.includeUsage) await writeChunk(stream, settings, { usage: response.usage, sources });
  await stream.writeSSE({ data: '[DONE]' });
}

/**
 * Streams like OpenAI: `data: {chunk}` lines, then `data: [DONE]` (see `streamEvents`). A failure after
 * the stream started is sent as `data: {"error":{…}}` (what OpenAI sends, and what its SDK raises) and
 * ends the stream; a client that goes away cancels the upstream request.
 */
function streamCompletion(
  c: Context<AppEnv>,
  deps: OpenAIRouteDeps,
  input: AnswerInput,
  settings: StreamSettings,
): Promise<Response> {
  const log = c.get('requestLog');
  return streamEvents(c, {
    events: (signal) => deps.answer(input, { signal }),
    write: (stream, event) => writeEvent(stream, settings, event, log),
    fail: (stream, { status, body }) => stream.writeSSE({ data: JSON.stringify(openAIError(status, body)) }),
    logger: deps.logger,
    requestId: input.id,
  });
}

async function jsonCompletion(
  c: Context<AppEnv>,
  deps: OpenAIRouteDeps,
  input: AnswerInput,
  meta: CompletionMeta,
) {
  let response: AskResponse | undefined;
  for await (const event of deps.answer(input, { signal: c.req.raw.signal, stream: false })) {
    if (event.type === 'done') response = event.response;
  }
  if (!response) throw new Error('the answer ended without a done event');
  recordAnswer(c.get('requestLog'), response);
  return c.json(chatCompletion(meta, response));
}

/**
 * Builds the `/v1` routes.
 *
 * @example
 * app.route('/', createOpenAIRoutes({ answer, store, limits: config.answer, logger }));
 * // POST /v1/chat/completions {"model":"default","messages":[{"role":"user","content":"How do I back up?"}]}
 */
export function createOpenAIRoutes(deps: OpenAIRouteDeps): Hono<AppEnv> {
  const schema = chatCompletionsSchema(deps.limits);
  return new Hono<AppEnv>()
    .get('/v1/models', (c) => c.json(modelList(deps.store.listKnowledgeBases())))
    .post('/v1/chat/completions', async (c) => {
      const body = schema.parse(await readJson(c));
      const ask = chatQuestion(body, deps.limits);
      admitQuestion(c, deps.blocked, ask);
      const input: AnswerInput = {
        question: ask.question,
        kb: ask.kb,
        history: ask.history,
        id: c.get('requestId'),
        ...(body.temperature == null ? {} : { temperature: body.temperature }),
        ...(ask.instructions === undefined ? {} : { instructions: ask.instructions }),
      };
      const meta = completionMeta(input.id, body.model);
      if (!body.stream) return jsonCompletion(c, deps, input, meta);
      return streamCompletion(c, deps, input, {
        meta,
        includeUsage: body.stream_options?.include_usage === true,
      });
    });
}
