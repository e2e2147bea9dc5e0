/**
 * The per-request context variables the app's middleware provides to every route (Hono's `Env`), in one
 * place so `app.ts` and the routes agree on them without importing each other.
 */

import type { ApiKeyRecord } from '../access/api-key.ts';

/** What a route adds to the request's log line (never question text, bodies or headers). */
export interface RequestLogFields {
  /** Knowledge base asked. */
  kb?: string;
  /** Whether the knowledge base had something relevant. */
  found?: boolean;
  mode?: 'llm' | 'extractive';
  /** Total tokens of the answer, when the provider reports usage. */
  tokens?: number;
  /** Prompt and completion tokens of the answer: booked in the API key's usage of the day. */
  promptTokens?: number;
  completionTokens?: number;
  /** Name of the API key that made the request (never the key itself). */
  key?: string;
  /** The answer came from the answer cache (nothing was sent upstream). */
  cached?: boolean;
  /** The rating of a `POST /feedback`. */
  rating?: 'up' | 'down';
  /** Set when a response was streamed, so its line tells the status (200) from the outcome. */
  stream?: boolean;
  /** The error code sent, for failures after a stream started (the status is already 200 then). */
  error?: string;
  /** The client went away before the answer was complete. */
  aborted?: boolean;
}

/**
 * The API key a request was made with, as routes see it (never the secret). A route that must check a
 * knowledge base the request does not name (a stored conversation's) uses `assertKeyCoversKb` of
 * `src/access/authorize.ts`; a resource created with a key can record `id` as its owner.
 */
export type AuthenticatedKey = Pick<ApiKeyRecord, 'id' | 'name' | 'kind' | 'tier' | 'kbs' | 'origins'>;

/**
 * Hono's `Env` of this app.
 *
 * @example
 * const route = new Hono<AppEnv>().get('/x', (c) => c.text(c.var.requestId));
 */
export interface AppEnv {
  Variables: {
    /** The API key of the request, set by the access control; undefined while the service runs without keys. */
    apiKey: AuthenticatedKey | undefined;
    /** The `X-Request-Id` sent back; also the `id` of an answer. */
    requestId: string;
    /** Mutable: routes add fields; the request's log line is written after the response (or stream) ends. */
    requestLog: RequestLogFields;
    /** Set by a route whose response outlives its handler (a stream): the log line waits for it. */
    responseDone: Promise<void> | undefined;
  };
}
