/**
 * The one error family of the service. Routes and domain code throw these (or let SDK errors rise);
 * `app.ts` maps them to HTTP in one `onError`, and the CLIs print `message` as one line.
 *
 * `expose` says whether `message` is safe to show a client: true for messages we wrote ourselves,
 * false for anything that might carry provider text, paths or secrets (the client then gets a generic
 * message for the status).
 *
 * @example
 * throw new InvalidRequestError('question must not be empty');
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { cause?: unknown; expose?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.expose = options?.expose ?? true;
  }
}

/** 400: the request is malformed or breaks a documented limit. */
export class InvalidRequestError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, 'invalid_request', message, options);
  }
}

/** 400: the question contains a word of `SENSITIVE_WORDS_FILE`; the word itself is not named back. */
export class ContentBlockedError extends AppError {
  constructor(message = 'the question contains words this service does not accept') {
    super(400, 'content_blocked', message);
  }
}

/** 403: the request is understood but not allowed, e.g. a browser page from an origin not in `WIDGET_ORIGINS`. */
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

/** 401: API keys are in use and the request has none, or an unknown or revoked one. */
export class UnauthorizedError extends AppError {
  constructor(message: string) {
    super(401, 'unauthorized', message);
  }
}

/**
 * 429: a daily quota (`quota_exceeded`) or a per-minute rate limit (`rate_limited`) is used up.
 * `retryAfterSeconds` is sent as `Retry-After`: when the window that is full ends.
 */
export class TooManyRequestsError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(code: 'quota_exceeded' | 'rate_limited', message: string, retryAfterSeconds: number) {
    super(429, code, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** 404: an unknown route or knowledge base. */
export class NotFoundError extends AppError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

/** 413: the body is over the configured limit. */
export class PayloadTooLargeError extends AppError {
  constructor(message: string) {
    super(413, 'payload_too_large', message);
  }
}

/**
 * 409: a knowledge base was built with one embedder and is being used with another. Vectors from two
 * embedders are not comparable, so this is never silently tolerated.
 */
export class EmbedderMismatchError extends AppError {
  constructor(kb: string, stored: string, configured: string) {
    super(
      409,
      'embedder_mismatch',
      `knowledge base "${kb}" was built with the embedder ${stored}, but ${configured} is configured; ` +
        `use the same embedder, or rebuild it with \`npm run ingest -- DIR --kb ${kb} --rebuild\``,
    );
  }
}

/** 502: the model provider answered with an error. The provider's text is never shown. */
export class UpstreamError extends AppError {
  constructor(message = 'the model provider returned an error', options?: { cause?: unknown }) {
    super(502, 'upstream_error', message, options);
  }
}

/** 503: the model provider is rate limiting us or is down, after retries. */
export class UpstreamUnavailableError extends AppError {
  constructor(
    message = 'the model provider is unavailable; try again shortly',
    options?: { cause?: unknown },
  ) {
    super(503, 'upstream_unavailable', message, options);
  }
}

/** 504: the model provider did not answer within `LLM_TIMEOUT_MS`. */
export class UpstreamTimeoutError extends AppError {
  constructor(message = 'the model provider did not answer in time', options?: { cause?: unknown }) {
    super(504, 'upstream_timeout', message, options);
  }
}

/** Bad configuration: thrown at start-up by `loadConfig`, listing every invalid key at once. */
export class ConfigError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
