import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { matchedRoutes } from 'hono/route';
import type { AccessStore } from './access/access-store.ts';
import type { Config } from './config.ts';
import { NotFoundError, PayloadTooLargeError } from './errors.ts';
import type { Logger } from './log.ts';
import type { FeedbackStore } from './feedback/feedback-store.ts';
import { timedChat } from './llm/timed-chat.ts';
import { createMetrics, observeRequest, type Metrics } from './metrics.ts';
import type { AnswerDeps } from './rag/answer.ts';
import { createAnswerCache } from './rag/answer-cache.ts';
import { createAnswerer, type Answerer } from './rag/answerer.ts';
import { accessControl } from './routes/access-control.ts';
import { createAdminUsageRoute } from './routes/admin-usage.ts';
import type { AppEnv, RequestLogFields } from './routes/app-env.ts';
import { createAskRoute } from './routes/ask.ts';
import { browserAccess } from './routes/cors.ts';
import { errorResponse } from './routes/error-response.ts';
import { createUnansweredRoute } from './routes/admin-unanswered.ts';
import { createFeedbackRoute } from './routes/feedback.ts';
import { createHealthRoutes } from './routes/health.ts';
import { createConversationRoutes } from './routes/conversations.ts';
import { createOpenAIRoutes } from './routes/openai.ts';
import { isOpenAIPath, openAIError } from './routes/openai-shapes.ts';
import { createMetricsRoute } from './routes/metrics.ts';
import { createWidgetRoutes } from './routes/widget.ts';
import type { ConversationStore } from './store/conversations.ts';
import type { Store } from './store/store.ts';
import { blockedWordTest } from './text/blocked-words.ts';
import type { WidgetBundle } from './widget/build.ts';

/** Everything the HTTP app needs, built by `main.ts` (tests build their own). */
export interface AppDeps {
  answer: AnswerDeps;
  store: Store;
  config: Config;
  logger: Logger;
  /** Served at /widget.js, with the demo page at /; leave it out and neither route exists. */
  widget?: Pick<WidgetBundle, 'code' | 'etag'>;
  /**
   * API keys, quotas and usage (`accessControl`, `GET /admin/usage`). `main.ts` always passes it; leave it
   * out (tests of other features, benchmarks) and every route is open and unlimited.
   */
  access?: AccessStore;
  /** Server-side conversations of `/ask` and `GET /conversations/:id`; leave it out and `/ask` keeps none. */
  conversations?: ConversationStore;
  /**
   * Remembers asked questions and ratings: `POST /feedback` and `GET /admin/unanswered`; leave it out and
   * neither route exists (and nothing is recorded).
   */
  feedback?: FeedbackStore;
}

/**
 * `/ask`'s answerer: the chat model timed (`llm_request_duration_seconds`), the answer cache unless
 * `CACHE_TTL_SECONDS` is 0, and every complete answer recorded for the unanswered-questions report.
 */
function serviceAnswerer(deps: AppDeps, metrics: Metrics): { answer: AnswerDeps; answerer: Answerer } {
  const { chat } = deps.answer;
  const answer: AnswerDeps = { ...deps.answer, chat: chat && timedChat(chat, metrics.llmDuration) };
  const { ttlSeconds, maxEntries } = deps.config.cache;
  const feedback = deps.feedback;
  const answerer = createAnswerer({
    answer,
    cache: ttlSeconds > 0 ? createAnswerCache({ ttlSeconds, maxEntries }) : undefined,
    retrievalDuration: metrics.retrievalDuration,
    ...(feedback && {
      onAnswer: (input, response) =>
        feedback.recordQuestion({
          answerId: response.id,
          kb: response.kb,
          question: input.question,
          found: response.found,
        }),
    }),
  });
  return { answer, answerer };
}

/** nginx's status for a request whose client went away before the answer. */
const CLIENT_CLOSED_REQUEST = 499;

/** Incoming request ids are echoed only when they are short and harmless in logs and headers. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives each request an id (a sane incoming `X-Request-Id`, else a new UUID), sends it back on every
 * response, errors and 404s included, and writes one log line per request when its response (or its
 * stream) ends.
 *
 * The header is set before `next()`: Hono merges it into whatever response is built later, whereas
 * touching headers after `next()` makes Hono rebuild the finished Response on every request.
 */
function requestContext(logger: Logger, metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const log: RequestLogFields = {};
    c.set('requestId', requestId);
    c.set('requestLog', log);
    c.header('X-Request-Id', requestId);
    await next();
    const write = (): void => {
      const ms = performance.now() - started;
      const route = routeOf(c);
      const status = c.res.status;
      logger.info('request', {
        requestId,
        method: c.req.method,
        route,
        status,
        ms: Math.round(ms * 10) / 10,
        ...log,
      });
      observeRequest(metrics, { route, status, seconds: ms / 1000, log });
    };
    const done = c.get('responseDone');
    if (done) void done.then(write);
    else write();
  };
}

/**
 * Rejects bodies over `maxBytes` with 413 `payload_too_large`. A declared `Content-Length` is checked
 * from the header alone (Node's parser never delivers more bytes than it declares), because Hono's
 * `bodyLimit` asks for `c.req.raw.body`, which makes the Node adapter build a full web `Request` and
 * stream the body through it: measured at about a tenth of the throughput. Bodies without a length
 * (chunked) go through `bodyLimit`, which counts the bytes as they arrive.
 */
function limitBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  const tooLarge = (): never => {
    throw new PayloadTooLargeError(`body: must be at most ${maxBytes} bytes`);
  };
  const counting = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return (c, next) => {
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return counting(c, next);
    return Number(length) > maxBytes ? tooLarge() : next();
  };
}

/**
 * The matched route pattern (`/ask`), not the raw path: bounded cardinality, and no query strings in logs.
 * Middleware is registered on `/*`, so the last other match is the route that answered.
 */
function routeOf(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i];
    if (route && route.path !== '/*') return route.path;
  }
  return '(unmatched)';
}

/**
 * Builds the HTTP app: `GET /health`, `GET /ready`, `POST /ask` (CORS by `WIDGET_ORIGINS`), and with a
 * widget bundle `GET /widget.js` and the demo page `GET /`; a request id and a log line per
 * request, the body limit (`MAX_BODY_BYTES`, 413), and one error handler mapping every failure through
 * `errorResponse`. Nothing happens at import or construction beyond building routes.
 *
 * @example
 * const app = createApp({ answer, store, config, logger });
 * const res = await app.request('/health'); // 200 {"status":"ok"}
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { config, logger } = deps;
  const app = new Hono<AppEnv>();

  const metrics = createMetrics();
  app.use(requestContext(logger, metrics));
  // Browsers may call the API only from allowed origins (WIDGET_ORIGINS); preflights end here.
  app.use('/ask', browserAccess({ allowedOrigins: config.widgetOrigins }));
  // The widget rates answers from the same pages it asks from.
  app.use('/feedback', browserAccess({ allowedOrigins: config.widgetOrigins }));
  // Only methods with a body: on GET there is nothing to limit.
  app.on(['POST', 'PUT', 'PATCH'], '*', limitBody(config.server.maxBodyBytes));
  // After the body limit: a key limited to some knowledge bases may have its body read for `kb`.
  if (deps.access) app.use(accessControl({ store: deps.access, settings: config.access, logger }));

  app.route('/', createHealthRoutes({ store: deps.store }));
  const { answer, answerer } = serviceAnswerer(deps, metrics);
  const blocked = blockedWordTest(config.sensitiveWords);
  const { conversations } = deps;
  app.route('/', createAskRoute({ answer, answerer, blocked, limits: config.answer, logger, conversations }));
  // The OpenAI-compatible API answers through the same answerer (cache, metrics) and access control.
  app.route(
    '/',
    createOpenAIRoutes({ answer: answerer, blocked, store: deps.store, limits: config.answer, logger }),
  );
  if (conversations) app.route('/', createConversationRoutes({ conversations }));
  app.route('/', createMetricsRoute({ registry: metrics.registry }));
  if (deps.feedback) {
    app.route('/', createFeedbackRoute({ feedback: deps.feedback }));
    app.route('/', createUnansweredRoute({ feedback: deps.feedback }));
  }
  if (deps.widget) app.route('/', createWidgetRoutes(deps.widget));
  if (deps.access) app.route('/', createAdminUsageRoute({ store: deps.access }));

  app.notFound((c) => {
    const path = c.req.path.length > 200 ? `${c.req.path.slice(0, 200)}…` : c.req.path;
    const { status, body } = errorResponse(
      new NotFoundError(`no route for ${c.req.method} ${path}`),
      c.get('requestId'),
    );
    return c.json(isOpenAIPath(c.req.path) ? openAIError(status, body) : body, status);
  });

  app.onError((error, c) => {
    const requestId = c.get('requestId');
    const log = c.get('requestLog');
    if (c.req.raw.signal.aborted) {
      // The client hung up, which aborted its answer: no server fault, and nobody reads this response.
      // Logged and counted with nginx's 499 ("client closed request"), not as a 500.
      log.aborted = true;
      log.error = 'client_closed_request';
      return new Response(null, { status: CLIENT_CLOSED_REQUEST });
    }
    const { status, body } = errorResponse(error, requestId);
    log.error = body.error.code;
    if (status >= 500) logger.error('request failed', { requestId, status, error });
    // OpenAI clients (their SDKs) read errors in OpenAI's shape; the code and message are the same.
    return c.json(isOpenAIPath(c.req.path) ? openAIError(status, body) : body, status);
  });

  return app;
}
