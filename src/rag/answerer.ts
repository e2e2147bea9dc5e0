import type { Histogram } from 'prom-client';
import type { AskResponse, Usage } from '../shared/protocol.ts';
import { normalizeQuestion } from '../text/normalize-question.ts';
import type { AnswerCache, AnswerCacheKey } from './answer-cache.ts';
import {
  answerQuestion,
  type AnswerDeps,
  type AnswerEvent,
  type AnswerInput,
  type AnswerOptions,
} from './answer.ts';

/**
 * `answerQuestion` as the service runs it: answered from the cache when the same question was answered
 * before under the same settings and knowledge base revision, with the time to the sources observed, and a
 * callback for every complete answer (the unanswered-questions report records them).
 */

export interface AnswererDeps {
  answer: AnswerDeps;
  /** Absent when `CACHE_TTL_SECONDS` is 0. */
  cache?: AnswerCache | undefined;
  /** Observes the seconds from the question to its sources: `retrieval_duration_seconds`. */
  retrievalDuration?: Pick<Histogram, 'observe'>;
  /**
   * Called once per complete answer, cached or not (never for failed or aborted ones). Runs on the hot
   * path, so it must be quick; a throw from it fails the request.
   */
  onAnswer?: (input: AnswerInput, response: AskResponse) => void;
}

/**
 * Answers one question as a sequence of events: `answerQuestion` over its deps, or the service's answerer
 * below (cache, metrics) with the same shape, so a conversation turn (`answerInConversation`) and the
 * OpenAI-compatible routes go through whatever path `/ask` uses.
 */
export type Answerer = (input: AnswerInput, options?: AnswerOptions) => AsyncGenerator<AnswerEvent>;

const NO_USAGE: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

/**
 * The cache key, or `undefined` when the answer must not be cached: a conversation (history changes the
 * answer) or an unknown knowledge base (`answerQuestion` then throws its 404).
 */
function cacheKey(deps: AnswerDeps, input: AnswerInput): AnswerCacheKey | undefined {
  if (input.history.length > 0) return undefined;
  const kb = deps.store.getKnowledgeBase(input.kb);
  if (!kb) return undefined;
  return {
    kbId: kb.id,
    revision: kb.revision,
    question: normalizeQuestion(input.question),
    model: input.model ?? deps.config.chat.model,
    temperature: input.temperature ?? deps.config.chat.temperature,
    topK: input.topK ?? deps.config.retrieval.topK,
    mode: deps.chat ? 'llm' : 'extractive',
  };
}

/**
 * Builds the answerer. A cache hit sends nothing upstream and reports no token usage: the answer keeps
 * its own `id` (the request id) and says `cached: true`.
 *
 * @example
 * const answer = createAnswerer({ answer: deps, cache: createAnswerCache({ ttlSeconds: 3600, maxEntries: 1000 }) });
 * for await (const event of answer({ id, question, kb: 'default', history: [] })) {}
 */
export function createAnswerer(deps: AnswererDeps): Answerer {
  const { cache, retrievalDuration, onAnswer } = deps;
  return async function* answer(input, options = {}) {
    const key = cache && cacheKey(deps.answer, input);
    const hit = key && cache.get(key);
    if (hit) {
      const response: AskResponse = { ...hit, id: input.id, usage: NO_USAGE, cached: true };
      yield { type: 'sources', sources: response.sources };
      yield { type: 'delta', text: response.answer };
      onAnswer?.(input, response);
      yield { type: 'done', response };
      return;
    }
    const started = performance.now();
    for await (const event of answerQuestion(deps.answer, input, options)) {
      if (event.type === 'sources') retrievalDuration?.observe((performance.now() - started) / 1000);
      if (event.type === 'done') {
        const response: AskResponse = { ...event.response, cached: false };
        if (key) cache.set(key, response);
        onAnswer?.(input, response);
        yield { type: 'done', response };
      } else {
        yield event;
      }
    }
  };
}
