import { Hono } from 'hono';
import type { Context } from 'hono';
import type { SSEStreamingApi } from 'hono/streaming';
import { ContentBlockedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ConversationStore } from '../store/conversations.ts';
import { answerQuestion, type AnswerDeps, type AnswerEvent, type AnswerInput } from '../rag/answer.ts';
import type { Answerer } from '../rag/answerer.ts';
import { inConversation } from '../rag/conversation.ts';
import type { AskResponse, HistoryMessage, StreamEventName, StreamEvents } from '../shared/protocol.ts';
import type { BlockedWordTest } from '../text/blocked-words.ts';
import { requireKnowledgeBase } from './access-control.ts';
import type { AppEnv, RequestLogFields } from './app-env.ts';
import { askRequestSchema, type AskLimits } from './ask-schema.ts';
import { streamEvents } from './event-stream.ts';
import { requestOwner } from './request-owner.ts';
import { readJson } from './read-json.ts';

export interface AskRouteDeps {
  answer: AnswerDeps;
  /** Answers with the cache, metrics and question recording; default `answerQuestion` over `answer`. */
  answerer?: Answerer;
  /** The sensitive-word check (`SENSITIVE_WORDS_FILE`); none by default. */
  blocked?: BlockedWordTest | undefined;
  limits: AskLimits;
  logger: Logger;
  /** Server-side conversations (`conversationId`); without them `/ask` keeps no history. */
  conversations?: ConversationStore | undefined;
}

/** The answerer of the route: `deps.answerer` (cache, metrics, recording), else plain `answerQuestion`. */
function answererOf(deps: AskRouteDeps): Answerer {
  return deps.answerer ?? ((input, options) => answerQuestion(deps.answer, input, options));
}

/**
 * What every question goes through before it is answered, on `/ask` and `/v1/chat/completions` alike: the
 * knowledge base goes into the log line, the key must cover it (a request without `kb` asks the default
 * one), and a question (or an earlier user turn sent as history) containing a word of
 * `SENSITIVE_WORDS_FILE` is refused.
 *
 * @example
 * admitQuestion(c, deps.blocked, ask); // throws ForbiddenError or ContentBlockedError
 */
export function admitQuestion(
  c: Context<AppEnv>,
  blocked: BlockedWordTest | undefined,
  ask: { kb: string; question: string; history: HistoryMessage[] },
): void {
  c.get('requestLog').kb = ask.kb;
  requireKnowledgeBase(c, ask.kb);
  if (!blocked) return;
  if (blocked(ask.question) || ask.history.some((m) => m.role === 'user' && blocked(m.content))) {
    throw new ContentBlockedError();
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

/**
 * Adds an answer's outcome to the request's log line (and so to the key's usage); shared by every route
 * that answers, so `/ask` and `/v1/chat/completions` log alike.
 *
 * @example
 * recordAnswer(c.get('requestLog'), response);
 */
export function recordAnswer(log: RequestLogFields, response: AskResponse): void {
  log.found = response.found;
  log.mode = response.mode;
  log.tokens = response.usage.totalTokens;
  log.promptTokens = response.usage.promptTokens;
  log.completionTokens = response.usage.completionTokens;
  log.cached = response.cached ?? false;
}

async function sendEvent(stream: SSEStreamingApi, event: AnswerEvent, log: RequestLogFields): Promise<void> {
  if (event.type === 'sources') return send(stream, 'sources', { sources: event.sources });
  if (event.type === 'delta') return send(stream, 'delta', { text: event.text });
  recordAnswer(log, event.response);
  return send(stream, 'done', event.response);
}

/**
 * Answers as server-sent events (see `streamEvents`): a failure after the stream started becomes an
 * `error` event, and a client that goes away cancels the upstream model request.
 */
function streamAnswer(c: Context<AppEnv>, deps: AskRouteDeps, input: AnswerInput): Promise<Response> {
  const log = c.get('requestLog');
  return streamEvents(c, {
    events: (signal) => answererOf(deps)(input, { signal }),
    write: (stream, event) => sendEvent(stream, event, log),
    fail: (stream, { body }) => send(stream, 'error', body),
    logger: deps.logger,
    requestId: input.id,
  });
}

/** Consumes the events and returns the `done` response as JSON; a closed client aborts the answer. */
async function jsonAnswer(c: Context<AppEnv>, deps: AskRouteDeps, input: AnswerInput): Promise<Response> {
  let response: AskResponse | undefined;
  for await (const event of answererOf(deps)(input, { signal: c.req.raw.signal, stream: false })) {
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
    admitQuestion(c, deps.blocked, ask);
    const input: AnswerInput = {
      question: ask.question,
      kb: ask.kb,
      history: ask.history,
      topK: ask.topK,
      temperature: ask.temperature,
      model: ask.model,
      id: c.get('requestId'),
    };
    // Every answer is a turn of a server-side conversation: new, or the one `conversationId` names.
    const turn = { conversationId: ask.conversationId, owner: requestOwner(c) };
    const turnDeps = deps.conversations
      ? { ...deps, answerer: inConversation(answererOf(deps), deps.conversations, turn) }
      : deps;
    const stream = ask.stream ?? c.req.header('accept')?.includes('text/event-stream') ?? false;
    return stream ? streamAnswer(c, turnDeps, input) : jsonAnswer(c, turnDeps, input);
  });
}
