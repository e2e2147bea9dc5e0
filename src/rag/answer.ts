import type { Config } from '../config.ts';
import { assertSameEmbedder } from '../embed/create.ts';
import type { Embedder } from '../embed/embedder.ts';
import { InvalidRequestError, NotFoundError, UpstreamError } from '../errors.ts';
import type { ChatModel } from '../llm/chat.ts';
import { contextWindowFor } from '../llm/context-windows.ts';
import type { AskResponse, HistoryMessage, Source, Usage } from '../shared/protocol.ts';
import type { Store } from '../store/store.ts';
import { detectLanguage } from '../text/language.ts';
import { tokenCounterFor } from '../text/tokens.ts';
import { createCitationFilter } from './citations.ts';
import { extractiveAnswer } from './extractive.ts';
import { buildPrompt, DEFAULT_SYSTEM_PROMPT } from './prompt.ts';
import { retrieve, type RetrievedChunk } from './retrieve.ts';
import { searchQueryFor } from './rewrite.ts';

/** What answering needs; built once in `main.ts` (tests build their own). */
export interface AnswerDeps {
  store: Store;
  embedder: Embedder;
  /** Absent when no `OPENAI_API_KEY` is configured: answers are then extractive. */
  chat: ChatModel | undefined;
  config: Pick<Config, 'retrieval' | 'answer' | 'chat' | 'sourceBaseUrl'>;
}

export interface AnswerInput {
  question: string;
  kb: string;
  history: HistoryMessage[];
  topK?: number;
  temperature?: number;
  model?: string;
  /** The response id (the route uses the request id so logs and answers line up). */
  id: string;
  /**
   * A client's own system message (the OpenAI-compatible endpoint), added after the service's system
   * prompt so it can shape the answer but not drop the rules about sources and citations.
   */
  instructions?: string;
}

/** How the caller consumes an answer. */
export interface AnswerOptions {
  /** Cancels the answer, the upstream model request included. */
  signal?: AbortSignal;
  /**
   * Whether the caller reads the answer as it grows (default true). False (a JSON response) asks the
   * model for the whole answer at once; the events are the same, with one `delta` for the answer.
   */
  stream?: boolean;
}

/** Events of one answer, in order: `sources`, any number of `delta`, then `done`. Errors are thrown. */
export type AnswerEvent =
  | { type: 'sources'; sources: Source[] }
  | { type: 'delta'; text: string }
  | { type: 'done'; response: AskResponse };

const SNIPPET_CHARS = 240;
const EXTRACTIVE_MODEL = 'extractive';

/** Characters of a passage read for its snippet: enough for `SNIPPET_CHARS` code points and some spaces. */
const SNIPPET_WINDOW = SNIPPET_CHARS * 4;

/** The passage's start on one line, cut after `SNIPPET_CHARS` code points (never inside a character). */
function snippet(text: string): string {
  // Only the start is shown: flattening a whole long passage for it would be wasted work.
  // The window never ends between the two halves of a surrogate pair.
  const window = SNIPPET_WINDOW - (/[\uD800-\uDBFF]/.test(text.charAt(SNIPPET_WINDOW - 1)) ? 1 : 0);
  const head = text.length > window ? text.slice(0, window) : text;
  const flat = head.replace(/\s+/g, ' ').trim();
  let end = 0;
  for (let points = 0; end < flat.length && points < SNIPPET_CHARS; points++) {
    end += flat.codePointAt(end)! > 0xffff ? 2 : 1;
  }
  const cut = end < flat.length || (head !== text && /\S/.test(text.slice(window)));
  return cut ? `${flat.slice(0, end)}…` : flat;
}

function toSource(chunk: RetrievedChunk, index: number, baseUrl: string | undefined): Source {
  const source: Source = {
    index,
    documentId: chunk.documentId,
    path: chunk.path,
    title: chunk.title,
    heading: chunk.heading,
    snippet: snippet(chunk.text),
    score: Number(chunk.score.toFixed(6)),
  };
  if (chunk.page !== null) source.page = chunk.page;
  if (baseUrl) {
    const path = chunk.path.split('/').map(encodeURIComponent).join('/');
    source.url = `${baseUrl}/${path}${chunk.page !== null ? `#page=${chunk.page}` : ''}`;
  }
  return source;
}

/**
 * Answers a question from a knowledge base: retrieve, build the prompt within the token budget, stream the
 * model's answer with its citations checked (or quote the best passages when there is no model). Knows
 * nothing of HTTP: the route decides between JSON and server-sent events.
 *
 * When nothing relevant is found the answer is the configured not-found message in the question's language
 * and the chat model is not called.
 *
 * @throws NotFoundError for an unknown knowledge base, InvalidRequestError for a question that cannot fit
 *   the context window or a model not allowed, EmbedderMismatchError, and the Upstream* errors
 * @example
 * for await (const event of answerQuestion(deps, { id, question, kb: 'default', history: [] })) {}
 */
export async function* answerQuestion(
  deps: AnswerDeps,
  input: AnswerInput,
  options: AnswerOptions = {},
): AsyncGenerator<AnswerEvent> {
  const { store, embedder, chat, config } = deps;
  const kb = store.getKnowledgeBase(input.kb);
  if (!kb) throw new NotFoundError(`knowledge base "${input.kb}" not found; ingest documents into it first`);
  const model = input.model ?? config.chat.model;
  if (chat && !config.chat.allowedModels.includes(model)) {
    throw new InvalidRequestError(
      `model "${model}" is not allowed; allowed: ${config.chat.allowedModels.join(', ')}`,
    );
  }
  assertSameEmbedder(kb.name, kb.embedder, {
    provider: embedder.provider,
    model: embedder.model,
    dimensions: await embedder.dimensions(),
  });

  const countTokens = tokenCounterFor(model);
  // A follow-up is searched as a standalone query; the answer below still sees the question as asked.
  const search = await searchQueryFor(
    chat,
    {
      question: input.question,
      history: input.history,
      model,
      rewrite: config.answer.queryRewrite,
      countTokens,
    },
    options.signal,
  );
  const retrievalOptions = { ...config.retrieval, topK: input.topK ?? config.retrieval.topK };
  let retrieval = await retrieve(store, embedder, kb, search.query, retrievalOptions);
  // A follow-up that changed the subject can miss with the joined (or a poorly rewritten) query, while the
  // question alone would find its passages: try it before answering "not found".
  if (!retrieval.found && search.query !== input.question) {
    retrieval = await retrieve(store, embedder, kb, input.question, retrievalOptions);
  }
  const language = detectLanguage(input.question) === 'zh' ? 'zh' : 'en';
  const response = (answer: string, sources: Source[], usage: Usage, found: boolean): AskResponse => ({
    id: input.id,
    answer,
    sources,
    found,
    mode: chat ? 'llm' : 'extractive',
    usage,
    model: chat ? model : EXTRACTIVE_MODEL,
    kb: kb.name,
  });
  const noUsage: Usage = search.usage;

  if (!retrieval.found) {
    const message = config.answer.notFound[language];
    yield { type: 'sources', sources: [] };
    yield { type: 'delta', text: message };
    yield { type: 'done', response: response(message, [], noUsage, false) };
    return;
  }

  const all = retrieval.chunks.map((c, i) => toSource(c, i + 1, config.sourceBaseUrl));
  if (!chat) {
    const answer = extractiveAnswer(
      input.question,
      retrieval.chunks.map((c, i) => ({ index: i + 1, title: c.title, heading: c.heading, text: c.text })),
      language,
    );
    yield { type: 'sources', sources: all };
    yield { type: 'delta', text: answer };
    yield { type: 'done', response: response(answer, all, noUsage, true) };
    return;
  }

  const systemPrompt = config.answer.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
  const prompt = buildPrompt({
    systemPrompt: input.instructions ? `${systemPrompt}\n\n${input.instructions}` : systemPrompt,
    question: input.question,
    history: input.history,
    sources: retrieval.chunks.map((c, i) => ({
      index: i + 1,
      title: c.title,
      heading: c.heading,
      text: c.text,
      page: c.page,
    })),
    countTokens,
    contextWindow: config.answer.contextWindow ?? contextWindowFor(model),
    answerMaxTokens: config.answer.maxTokens,
  });
  const sources = all.slice(0, prompt.sourceCount);
  yield { type: 'sources', sources };

  const filter = createCitationFilter(sources.length);
  let answer = '';
  let reported: { promptTokens: number; completionTokens: number } | undefined;
  const stream = chat.stream(
    {
      model,
      messages: prompt.messages,
      maxTokens: config.answer.maxTokens,
      temperature: input.temperature ?? config.chat.temperature,
      ...(config.chat.topP === undefined ? {} : { topP: config.chat.topP }),
      ...(config.chat.presencePenalty === undefined ? {} : { presencePenalty: config.chat.presencePenalty }),
      ...(config.chat.frequencyPenalty === undefined
        ? {}
        : { frequencyPenalty: config.chat.frequencyPenalty }),
      stop: [...config.chat.stop],
      stream: options.stream !== false,
    },
    options.signal,
  );
  for await (const chunk of stream) {
    if (chunk.usage) reported = chunk.usage;
    if (!chunk.text) continue;
    const text = filter.push(chunk.text);
    if (text) {
      answer += text;
      yield { type: 'delta', text };
    }
  }
  const tail = filter.flush();
  if (tail) {
    answer += tail;
    yield { type: 'delta', text: tail };
  }
  // Nothing to show (a refusal by a content filter, a model that stopped at once): an error the client can
  // retry or report, not a blank answer that looks found.
  if (answer.trim() === '') throw new UpstreamError('the chat model returned an empty answer');
  // Providers that ignore stream_options send no usage; our own count is then the best estimate.
  // The rewrite call's tokens are part of this answer's cost.
  const promptTokens = (reported?.promptTokens ?? prompt.promptTokens) + search.usage.promptTokens;
  const completionTokens =
    (reported?.completionTokens ?? countTokens(answer)) + search.usage.completionTokens;
  const usage = { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
  yield { type: 'done', response: response(answer, sources, usage, true) };
}
