import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestDirectory } from '../ingest/run.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { startFakeOpenAI } from '../test/fake-openai.ts';
import { QUESTIONS, SAMPLE, startServer } from './ask-bench.ts';
import { runClients } from './clients.ts';
import { percentile, round } from './stats.ts';

/**
 * The bounded load test (`npm run load`): a real server process (`src/main.ts`) on loopback over the
 * sample knowledge base, answering with a fake OpenAI-compatible model served from this process, under
 * `clients` concurrent keep-alive clients for `seconds`. It reports requests per second, p50/p99
 * latency, errors, and the server's resident memory at the start, after warm-up and at the end.
 */

export interface LoadOptions {
  clients: number;
  seconds: number;
  /**
   * `unique` (default): every request asks a question never asked before, so each one is searched and
   * sent to the model (the worst case for the answer cache); `repeat`: six questions over and over, which
   * the answer cache serves.
   */
  questions: 'unique' | 'repeat';
}

export interface LoadResult extends LoadOptions {
  requests: number;
  errors: number;
  errorStatuses: Record<string, number>;
  elapsedSeconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Server RSS in MB: before the load, after the first fifth of it (warm-up), at the end. */
  rssStartMb: number;
  rssWarmMb: number;
  rssEndMb: number;
  rssPeakMb: number;
  /** Server RSS in MB, sampled about once a second during the run. */
  rssSamplesMb: number[];
}

/** Resident set size of a process in MB, from /proc (Linux) or `ps`. */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    if (kb) return round(Number(kb) / 1024, 1);
  } catch {
    // Not Linux: ask ps.
  }
  return round(
    Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024,
    1,
  );
}

function questionFor(mode: LoadOptions['questions'], i: number): string {
  const base = QUESTIONS[i % QUESTIONS.length]!;
  return mode === 'repeat' ? base : `${base} (${i})`;
}

/**
 * Runs the load test and returns its figures; everything it starts (server, fake model, temp folder) is
 * stopped before it returns.
 *
 * @example
 * const result = await runLoad({ clients: 50, seconds: 30, questions: 'unique' });
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-load-'));
  const kbPath = join(dir, 'kb.sqlite');
  const store = openSqliteStore(kbPath);
  await ingestDirectory({ dir: SAMPLE, kb: 'default', store, embedder: createLocalEmbedder() });
  store.close();
  const fake = await startFakeOpenAI({ reply: 'Use --rebuild to start from scratch [1].' });
  try {
    const { url, child } = await startServer({
      KB_PATH: kbPath,
      EMBEDDING_PROVIDER: 'local',
      OPENAI_API_KEY: 'sk-load',
      OPENAI_BASE_URL: fake.url,
      LLM_CONCURRENCY: String(Math.max(8, options.clients)),
    });
    try {
      const pid = child.pid!;
      const rssStartMb = rssMb(pid);
      const samples: number[] = [];
      const result = await runClients({
        url: `${url}/ask`,
        clients: options.clients,
        seconds: options.seconds,
        body: (i) => ({ question: questionFor(options.questions, i) }),
        onTick: () => samples.push(rssMb(pid)),
      });
      const rssEndMb = rssMb(pid);
      const warmIndex = Math.max(0, Math.floor(samples.length / 5) - 1);
      const { times, elapsedSeconds } = result;
      return {
        ...options,
        requests: times.length,
        errors: result.errors,
        errorStatuses: result.errorStatuses,
        elapsedSeconds: round(elapsedSeconds, 1),
        requestsPerSecond: Math.round(times.length / elapsedSeconds),
        p50Ms: round(percentile(times, 50)),
        p99Ms: round(percentile(times, 99)),
        rssStartMb,
        rssWarmMb: samples[warmIndex] ?? rssEndMb,
        rssEndMb,
        rssPeakMb: Math.max(rssEndMb, ...samples),
        rssSamplesMb: samples,
      };
    } finally {
      child.kill('SIGTERM');
    }
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Memory counts as flat when the end is within this share of the post-warm-up level. */
export const FLAT_MEMORY_GROWTH = 0.2;

/**
 * The verdicts of a run: no errors, and memory flat after warm-up (growth below `FLAT_MEMORY_GROWTH`).
 *
 * @example
 * judgeLoad(result); // { ok: true, lines: ['errors: 0 — ok', 'memory: ... — flat'] }
 */
export function judgeLoad(result: LoadResult): { ok: boolean; lines: string[] } {
  const growth = result.rssWarmMb > 0 ? (result.rssEndMb - result.rssWarmMb) / result.rssWarmMb : 0;
  const flat = growth < FLAT_MEMORY_GROWTH;
  const noErrors = result.errors === 0;
  return {
    ok: flat && noErrors,
    lines: [
      `errors: ${result.errors}${noErrors ? ' — ok' : ` — FAILED ${JSON.stringify(result.errorStatuses)}`}`,
      `memory after warm-up ${result.rssWarmMb} MB → end ${result.rssEndMb} MB (${round(growth * 100, 1)}%) — ` +
        (flat ? 'flat' : 'GROWING'),
    ],
  };
}
