import { Counter, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus metrics, on a registry of their own per app: two apps in one process (tests,
 * benchmarks) never share or double-register a metric, as they would on prom-client's global registry.
 *
 * Durations are in seconds, as Prometheus expects. Labels are bounded: `route` is the matched pattern
 * (`/ask`), never a raw path; `code` is one of our error codes.
 */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'status'>;
  httpDuration: Histogram<'route'>;
  llmDuration: Histogram;
  llmTokens: Counter<'type'>;
  retrievalDuration: Histogram;
  cacheHits: Counter;
  notFound: Counter;
  upstreamErrors: Counter<'code'>;
}

/** Buckets from 1 ms to 10 s: a cached answer takes well under a millisecond, a model answer seconds. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LLM_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];
const RETRIEVAL_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * Creates the metrics named in the product's contract, registered on a new `Registry`.
 *
 * @example
 * const metrics = createMetrics();
 * metrics.httpRequests.inc({ route: '/ask', status: '200' });
 * await metrics.registry.metrics(); // '# HELP http_requests_total ...'
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by matched route and status.',
      labelNames: ['route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, to the end of its body (streams included), in seconds.',
      labelNames: ['route'],
      buckets: HTTP_BUCKETS,
      registers,
    }),
    llmDuration: new Histogram({
      name: 'llm_request_duration_seconds',
      help: 'Time of one chat completion upstream, retries included, to its last token, in seconds.',
      buckets: LLM_BUCKETS,
      registers,
    }),
    llmTokens: new Counter({
      name: 'llm_tokens_total',
      help: 'Tokens of the chat model, by type (prompt or completion).',
      labelNames: ['type'],
      registers,
    }),
    retrievalDuration: new Histogram({
      name: 'retrieval_duration_seconds',
      help: 'Time from a question to its sources (embedding, search, prompt building), in seconds.',
      buckets: RETRIEVAL_BUCKETS,
      registers,
    }),
    cacheHits: new Counter({
      name: 'answer_cache_hits_total',
      help: 'Answers served from the answer cache.',
      registers,
    }),
    notFound: new Counter({
      name: 'answers_not_found_total',
      help: 'Answers for which the knowledge base had nothing relevant.',
      registers,
    }),
    upstreamErrors: new Counter({
      name: 'upstream_errors_total',
      help: 'Requests that failed because of the model provider, by error code.',
      labelNames: ['code'],
      registers,
    }),
  };
}

/** What a finished request tells the metrics; `log` is the request's log fields. */
export interface FinishedRequest {
  route: string;
  status: number;
  seconds: number;
  log: {
    found?: boolean | undefined;
    cached?: boolean | undefined;
    promptTokens?: number | undefined;
    completionTokens?: number | undefined;
    error?: string | undefined;
  };
}

/**
 * Counts a finished request (its stream included) from the same fields as its log line, so the log and
 * the metrics never disagree.
 *
 * @example
 * observeRequest(metrics, { route: '/ask', status: 200, seconds: 0.002, log: { found: true, cached: false } });
 */
export function observeRequest(metrics: Metrics, request: FinishedRequest): void {
  const { route, log } = request;
  metrics.httpRequests.inc({ route, status: String(request.status) });
  metrics.httpDuration.observe({ route }, request.seconds);
  if (log.cached) metrics.cacheHits.inc();
  if (log.found === false) metrics.notFound.inc();
  if (log.promptTokens) metrics.llmTokens.inc({ type: 'prompt' }, log.promptTokens);
  if (log.completionTokens) metrics.llmTokens.inc({ type: 'completion' }, log.completionTokens);
  if (log.error?.startsWith('upstream_')) metrics.upstreamErrors.inc({ code: log.error });
}
