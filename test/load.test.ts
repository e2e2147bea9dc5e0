import { describe, expect, it } from 'vitest';
import { judgeLoad, runLoad, type LoadResult } from '../bench/load.ts';

describe('npm run load', () => {
  it('drives a real server with concurrent clients, stops by itself, and reports rate, latency and memory', async () => {
    const started = performance.now();
    const result = await runLoad({ clients: 4, seconds: 2, questions: 'unique' });
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(result.errors).toBe(0);
    expect(result.requests).toBeGreaterThanOrEqual(4);
    expect(result.requestsPerSecond).toBeGreaterThan(0);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
    expect(result.rssStartMb).toBeGreaterThan(10);
    expect(result.rssEndMb).toBeGreaterThan(10);
  }, 60_000);

  it('fails a run with errors or memory still growing after warm-up', () => {
    const base = {
      rssStartMb: 100,
      rssWarmMb: 150,
      rssEndMb: 160,
      errors: 0,
      errorStatuses: {},
    } as LoadResult;
    expect(judgeLoad(base).ok).toBe(true);
    expect(judgeLoad({ ...base, errors: 2, errorStatuses: { '429': 2 } })).toMatchObject({ ok: false });
    expect(judgeLoad({ ...base, rssEndMb: 200 }).lines[1]).toMatch(/GROWING$/);
  });
});
