import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError } from '../errors.ts';
import type { ErrorBody } from '../shared/protocol.ts';

/**
 * The one mapping from a thrown value to what the client sees. `app.onError` sends it as JSON and the
 * `/ask` stream sends it as its `error` event, so a failure reads the same whichever way it reached the
 * client.
 *
 * Only messages we wrote are shown: an `AppError` with `expose`, and validation issues (which name a field
 * and a rule, never a value). Everything else gets the generic message of its status, so provider text,
 * file paths and secrets in `e.message` never reach a browser; callers log the cause for 5xx.
 */

export interface ErrorResponse {
  status: ContentfulStatusCode;
  body: ErrorBody;
}

/** What a client sees when the message itself may not be shown. */
const GENERIC_MESSAGES: Record<number, string> = {
  400: 'invalid request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  408: 'request timeout',
  409: 'conflict',
  413: 'payload too large',
  415: 'unsupported media type',
  429: 'too many requests',
  500: 'internal error',
  502: 'the model provider returned an error',
  503: 'service unavailable',
  504: 'the model provider did not answer in time',
};

/** Codes for statuses that reach us without an `AppError` (Hono's own `HTTPException`s). */
const STATUS_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
  504: 'timeout',
};

/** Most validation issues named in one message; the rest are summarised as a count. */
const MAX_ISSUES = 3;

interface IssueLike {
  path: readonly PropertyKey[];
  message: string;
}

/**
 * A zod error from any copy of zod (`zod` and `zod/v4/core` have different classes), recognised by shape.
 */
function validationIssues(error: unknown): IssueLike[] | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { name, issues } = error as { name?: unknown; issues?: unknown };
  if ((name !== 'ZodError' && name !== '$ZodError') || !Array.isArray(issues)) return undefined;
  return issues as IssueLike[];
}

/** `history.2.role: expected "user" or "assistant"`; a root issue is about the whole `body`. */
function describeIssues(issues: readonly IssueLike[]): string {
  const parts = issues
    .slice(0, MAX_ISSUES)
    .map((i) => `${i.path.length === 0 ? 'body' : i.path.map(String).join('.')}: ${i.message}`);
  const more = issues.length - MAX_ISSUES;
  return more > 0 ? `${parts.join('; ')} (and ${more} more)` : parts.join('; ') || 'invalid request';
}

function validStatus(status: number): ContentfulStatusCode {
  return Number.isInteger(status) && status >= 400 && status <= 599 ? (status as ContentfulStatusCode) : 500;
}

function genericMessage(status: number): string {
  return GENERIC_MESSAGES[status] ?? (status < 500 ? 'request failed' : 'internal error');
}

function build(
  status: ContentfulStatusCode,
  code: string,
  message: string,
  requestId: string,
): ErrorResponse {
  return { status, body: { error: { code, message, requestId } } };
}

/**
 * Maps any thrown value to an HTTP status and the error body `{"error":{code,message,requestId}}`.
 *
 * - `AppError`: its status and code; its message when `expose`, else the generic message of the status.
 * - zod validation errors: 400 `invalid_request` naming each field and rule.
 * - Hono's `HTTPException` (its built-in middleware): its status with a generic message.
 * - anything else: 500 `internal_error` "internal error".
 *
 * @example
 * errorResponse(new NotFoundError('no knowledge base "x"'), 'req-1');
 * // { status: 404, body: { error: { code: 'not_found', message: 'no knowledge base "x"', requestId: 'req-1' } } }
 */
export function errorResponse(error: unknown, requestId: string): ErrorResponse {
  if (error instanceof AppError) {
    const status = validStatus(error.status);
    return build(status, error.code, error.expose ? error.message : genericMessage(status), requestId);
  }
  const issues = validationIssues(error);
  if (issues) return build(400, 'invalid_request', describeIssues(issues), requestId);
  if (error instanceof HTTPException) {
    const status = validStatus(error.status);
    const code = STATUS_CODES[status] ?? (status < 500 ? 'invalid_request' : 'internal_error');
    return build(status, code, genericMessage(status), requestId);
  }
  return build(500, 'internal_error', 'internal error', requestId);
}
