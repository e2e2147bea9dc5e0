import type { AskResponse, ErrorBody, Source, Usage } from '../shared/protocol.ts';
import type { KnowledgeBase } from '../store/store.ts';

/**
 * The OpenAI API's response shapes, built from our answers: `chat.completion`, `chat.completion.chunk`,
 * the model list and the error body. Pure; the routes in `openai.ts` send them. The only addition to
 * OpenAI's shapes is `sources` (the passages `[n]` cites) on a completion and on the last chunk; clients
 * that do not know it ignore it.
 */

/** What every chunk and completion of one answer shares. */
export interface CompletionMeta {
  /** `chatcmpl-<request id>`. */
  id: string;
  /** Unix seconds. */
  created: number;
  /** The `model` the client asked for (`default`, `kb:NAME`), echoed like OpenAI does. */
  model: string;
}

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The `model` value that names the knowledge base `default`; `kb:NAME` names any. */
export const DEFAULT_MODEL = 'default';
export const KB_MODEL_PREFIX = 'kb:';

/**
 * Meta for one answer.
 *
 * @example
 * completionMeta('req-1', 'kb:hr') // { id: 'chatcmpl-req-1', created: 1763766000, model: 'kb:hr' }
 */
export function completionMeta(requestId: string, model: string): CompletionMeta {
  return { id: `chatcmpl-${requestId}`, created: Math.floor(Date.now() / 1000), model };
}

/**
 * Our usage in OpenAI's field names.
 *
 * @example
 * openAIUsage({ promptTokens: 10, completionTokens: 2, totalTokens: 12 }) // { prompt_tokens: 10, ... }
 */
export function openAIUsage(usage: Usage): OpenAIUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
  };
}

/**
 * A whole (non-streamed) answer as a `chat.completion`.
 *
 * @example
 * const body = chatCompletion(completionMeta(requestId, 'default'), response);
 */
export function chatCompletion(meta: CompletionMeta, response: AskResponse) {
  return {
    ...meta,
    object: 'chat.completion' as const,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: response.answer, refusal: null },
        logprobs: null,
        finish_reason: 'stop' as const,
      },
    ],
    usage: openAIUsage(response.usage),
    sources: response.sources,
  };
}

/** What one streamed chunk carries besides the meta. */
export interface ChunkParts {
  /** The delta of choice 0; absent for the usage chunk (which has no choices). */
  delta?: { role?: 'assistant'; content?: string };
  finishReason?: 'stop';
  usage?: Usage;
  sources?: Source[];
}

/**
 * One `chat.completion.chunk`. The usage chunk (`stream_options.include_usage`) has empty `choices`;
 * every other chunk has `usage: null` when usage was asked for, like OpenAI's.
 *
 * @example
 * chatCompletionChunk(meta, { delta: { content: 'Hello' } }, false)
 */
export function chatCompletionChunk(meta: CompletionMeta, parts: ChunkParts, includeUsage: boolean) {
  const choices = parts.delta
    ? [{ index: 0, delta: parts.delta, logprobs: null, finish_reason: parts.finishReason ?? null }]
    : [];
  return {
    ...meta,
    object: 'chat.completion.chunk' as const,
    choices,
    ...(includeUsage ? { usage: parts.usage ? openAIUsage(parts.usage) : null } : {}),
    ...(parts.sources ? { sources: parts.sources } : {}),
  };
}

/**
 * `GET /v1/models`: `default` (when that knowledge base exists) and `kb:NAME` for every knowledge base.
 *
 * @example
 * modelList(store.listKnowledgeBases()) // { object: 'list', data: [{ id: 'default', ... }, { id: 'kb:default', ... }] }
 */
export function modelList(kbs: readonly KnowledgeBase[]) {
  const model = (id: string, kb: KnowledgeBase) => ({
    id,
    object: 'model' as const,
    created: Math.floor(Date.parse(kb.createdAt) / 1000),
    owned_by: 'kb-answers',
  });
  const byDefault = kbs.find((kb) => kb.name === DEFAULT_MODEL);
  return {
    object: 'list' as const,
    data: [
      ...(byDefault ? [model(DEFAULT_MODEL, byDefault)] : []),
      ...kbs.map((kb) => model(`${KB_MODEL_PREFIX}${kb.name}`, kb)),
    ],
  };
}

/** OpenAI's error `type` by status; anything else is `api_error`. */
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  409: 'invalid_request_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
};

/**
 * Our error body (from `errorResponse`, the one mapping) in OpenAI's shape: the same safe message and
 * code, OpenAI's `type` for the status, `param` null. The request id stays in `X-Request-Id`.
 *
 * @example
 * openAIError(404, body) // { error: { message: 'knowledge base "x" not found…', type: 'invalid_request_error', param: null, code: 'not_found' } }
 */
export function openAIError(status: number, body: ErrorBody) {
  return {
    error: {
      message: body.error.message,
      type: ERROR_TYPES[status] ?? (status < 500 ? 'invalid_request_error' : 'api_error'),
      param: null,
      code: body.error.code,
    },
  };
}

/**
 * Whether a path belongs to the OpenAI-compatible API, whose errors take OpenAI's shape.
 *
 * @example
 * isOpenAIPath('/v1/chat/completions') // true
 */
export function isOpenAIPath(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/');
}
