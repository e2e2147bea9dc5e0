import { describe, expect, it } from 'vitest';
import { createMetrics } from '../src/metrics.ts';
import { createTestApp, useKnowledgeBaseAndModel, postAsk, QUESTION } from './app-fixture.ts';

const ctx = useKnowledgeBaseAndModel();

/** The value of one sample line (`name{labels} value`) of the exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const METRIC_NAMES = [
  'http_requests_total',
  'http_request_duration_seconds',
  'llm_request_duration_seconds',
  'llm_tokens_total',
  'retrieval_duration_seconds',
  'answer_cache_hits_total',
  'answers_not_found_total',
  'upstream_errors_total',
];

describe('GET /metrics', () => {
  it('exposes exactly the documented metrics in the Prometheus text format', async () => {
    const res = await createTestApp(ctx.kb).app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(names).toEqual(METRIC_NAMES);
  });

  it('counts requests, tokens, cache hits, not-found answers, upstream errors and durations', async () => {
    const { app } = createTestApp(ctx.kb, { chat: ctx.fake });
    expect((await postAsk(app, { question: QUESTION })).status).toBe(200);
    expect((await postAsk(app, { question: QUESTION })).status).toBe(200);
    expect((await postAsk(app, { question: 'What is the vacation policy?' })).status).toBe(200);
    ctx.fake.enqueue('chat', { status: 400 });
    expect((await postAsk(app, { question: 'How do I install it?' })).status).toBe(502);
    expect((await postAsk(app, '{')).status).toBe(400);

    const text = await (await app.request('/metrics')).text();
    expect(sample(text, 'http_requests_total{route="/ask",status="200"}')).toBe(3);
    expect(sample(text, 'http_requests_total{route="/ask",status="400"}')).toBe(1);
    expect(sample(text, 'http_requests_total{route="/ask",status="502"}')).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count{route="/ask"}')).toBe(5);
    expect(sample(text, 'answer_cache_hits_total')).toBe(1);
    expect(sample(text, 'answers_not_found_total')).toBe(1);
    expect(sample(text, 'upstream_errors_total{code="upstream_error"}')).toBe(1);
    // Two model calls: the first answer and the failed one; the cached and not-found answers call nothing.
    expect(sample(text, 'llm_request_duration_seconds_count')).toBe(2);
    expect(sample(text, 'llm_tokens_total{type="prompt"}')).toBeGreaterThan(0);
    expect(sample(text, 'llm_tokens_total{type="completion"}')).toBeGreaterThan(0);
    // Retrieval ran for the three answers that were not served from the cache.
    expect(sample(text, 'retrieval_duration_seconds_count')).toBe(3);
  });

  it('each app has its own registry: two apps in one process never share counts', async () => {
    const a = createTestApp(ctx.kb).app;
    const b = createTestApp(ctx.kb).app;
    await a.request('/health');
    await a.request('/health');
    const textB = await (await b.request('/metrics')).text();
    expect(sample(textB, 'http_requests_total{route="/health",status="200"}')).toBeUndefined();
    const textA = await (await a.request('/metrics')).text();
    expect(sample(textA, 'http_requests_total{route="/health",status="200"}')).toBe(2);
    expect(createMetrics().registry).not.toBe(createMetrics().registry);
  });
});

describe('the request log line', () => {
  it('has request id, route, status, ms, kb, tokens, cache hit and found, and never the question', async () => {
    const { app, logLines } = createTestApp(ctx.kb, { chat: ctx.fake });
    await postAsk(app, { question: QUESTION }, { 'X-Request-Id': 'req-1' });
    await postAsk(app, { question: QUESTION }, { 'X-Request-Id': 'req-2' });
    const [first, second] = logLines.filter((l) => l.msg === 'request');
    expect(first).toMatchObject({
      level: 'info',
      requestId: 'req-1',
      method: 'POST',
      route: '/ask',
      status: 200,
      kb: 'default',
      found: true,
      cached: false,
    });
    expect(first!.ms).toEqual(expect.any(Number));
    expect(first!.tokens).toBeGreaterThan(0);
    expect(second).toMatchObject({ requestId: 'req-2', cached: true, found: true, tokens: 0 });
    expect(JSON.stringify(logLines)).not.toContain('back up');
  });
});
