/**
 * The per-request context variables the app's middleware provides to every route (Hono's `Env`), in one
 * place so `app.ts` and the routes agree on them without importing each other.
 */

/** What a route adds to the request's log line (never question text, bodies or headers). */
export interface RequestLogFields {
  /** Knowledge base asked. */
  kb?: string;
  /** Whether the knowledge base had something relevant. */
  found?: boolean;
  mode?: 'llm' | 'extractive';
  /** Total tokens of the answer, when the provider reports usage. */
  tokens?: number;
  /** Set when a response was streamed, so its line tells the status (200) from the outcome. */
  stream?: boolean;
  /** The error code sent, for failures after a stream started (the status is already 200 then). */
  error?: string;
  /** The client went away before the answer was complete. */
  aborted?: boolean;
}

/**
 * Hono's `Env` of this app.
 *
 * @example
 * const route = new Hono<AppEnv>().get('/x', (c) => c.text(c.var.requestId));
 */
export interface AppEnv {
  Variables: {
    /** The `X-Request-Id` sent back; also the `id` of an answer. */
    requestId: string;
    /** Mutable: routes add fields; the request's log line is written after the response (or stream) ends. */
    requestLog: RequestLogFields;
    /** Set by a route whose response outlives its handler (a stream): the log line waits for it. */
    responseDone: Promise<void> | undefined;
  };
}
