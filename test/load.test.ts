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
    // Linux tells the anonymous part (heap and native allocations) apart from mapped files.
    if (process.platform === 'linux') expect(result.anonEndMb).toBeGreaterThan(10);
  }, 60_000);

  it('fails a run with errors or memory still growing after warm-up', () => {
    const base = {
      elapsedSeconds: 30,
      rssStartMb: 100,
      rssWarmMb: 150,
      rssEndMb: 160,
      heapAfterGc: [],
      errors: 0,
      errorStatuses: {},
    } as unknown as LoadResult;
    expect(judgeLoad(base).ok).toBe(true);
    expect(judgeLoad({ ...base, errors: 2, errorStatuses: { '429': 2 } })).toMatchObject({ ok: false });
    expect(judgeLoad({ ...base, rssEndMb: 200 }).lines[1]).toMatch(/too few full collections.*GROWING$/);
  });

  it('judges by the live heap after full collections past the first third of the run, when there are two', () => {
    const gcs = (...points: Array<[number, number]>) =>
      points.map(([second, liveMb]) => ({ second, liveMb }));
    const base = {
      elapsedSeconds: 30,
      rssWarmMb: 200,
      rssEndMb: 300,
      heapAfterGc: gcs([2, 20], [8, 30], [15, 34], [23, 35.6], [30, 35.7]),
      errors: 0,
      errorStatuses: {},
    } as unknown as LoadResult;
    // RSS rose by half, but the live heap only from 34 to 35.7 MB once warm: V8 growing lazily, not a leak.
    expect(judgeLoad(base)).toMatchObject({
      ok: true,
      lines: [expect.anything(), expect.stringMatching(/flat$/)],
    });
    const leaking = { ...base, heapAfterGc: gcs([12, 40], [20, 60], [29, 80]) };
    expect(judgeLoad(leaking).lines[1]).toMatch(/^live heap after full GC 40 MB \(12 s\) → 80 MB.*GROWING$/);
  });
});
