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
 * latency, errors, the server's resident memory at the start, after warm-up and at the end, and the live
 * heap after each full garbage collection (the server runs with `--trace-gc`).
 *
 * Why the live heap and not RSS decides whether memory is flat: V8 grows its heap lazily. Under this load
 * it measured RSS 158 → 306 MB over 30 s while the heap left after each full collection stayed at
 * 30-36 MB (the bounded caches filling up): RSS follows V8's allocation limit, which rises by steps
 * between full collections and levels off; with `--max-old-space-size=160` the same run held RSS at
 * ~210 MB. And part of RSS is the database file, memory-mapped (`openSqliteDatabase`): it grows with the
 * conversations and asked questions every answer stores. Over 45 s the anonymous part levelled off at
 * ~245 MB while the mapped file pages went 51 → 94 MB. A leak shows as a live heap that keeps rising.
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
  /**
   * The anonymous part of RSS (heap, native allocations) after warm-up and at the end, where the OS tells
   * it (Linux); the rest is file pages mapped from the database (which grows with every stored answer).
   */
  anonWarmMb?: number | undefined;
  anonEndMb?: number | undefined;
  /** Heap in MB left live after each full collection during the run, with the second it happened. */
  heapAfterGc: Array<{ second: number; liveMb: number }>;
}

/** A `--trace-gc` line of a full collection: `... Mark-Compact 95.4 (118.8) -> 29.8 (119.3) MB, ...`. */
const FULL_GC = /Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/;

/**
 * A process's resident set size in MB and its anonymous part (heap and native allocations, the rest being
 * mapped files), from one read of /proc (Linux); elsewhere the RSS from `ps` and no anonymous part.
 */
export function memoryMb(pid: number): { rss: number; anon: number | undefined } {
  const mb = (kb: string | undefined) => (kb === undefined ? undefined : round(Number(kb) / 1024, 1));
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = mb(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
    if (rss !== undefined) return { rss, anon: mb(/RssAnon:\s+(\d+) kB/.exec(status)?.[1]) };
  } catch {
    // Not Linux: ask ps.
  }
  const kb = execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  return { rss: mb(kb)!, anon: undefined };
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
    const heapAfterGc: LoadResult['heapAfterGc'] = [];
    let loadStarted = Infinity;
    const { url, child } = await startServer(
      {
        KB_PATH: kbPath,
        EMBEDDING_PROVIDER: 'local',
        OPENAI_API_KEY: 'sk-load',
        OPENAI_BASE_URL: fake.url,
        LLM_CONCURRENCY: String(Math.max(8, options.clients)),
      },
      {
        nodeArgs: ['--trace-gc'],
        onLine: (line) => {
          const live = FULL_GC.exec(line)?.[1];
          const second = (performance.now() - loadStarted) / 1000;
          if (live && second >= 0) heapAfterGc.push({ second: round(second, 1), liveMb: Number(live) });
        },
      },
    );
    try {
      const pid = child.pid!;
      const rssStartMb = memoryMb(pid).rss;
      const samples: number[] = [];
      const anonSamples: Array<number | undefined> = [];
      loadStarted = performance.now();
      const result = await runClients({
        url: `${url}/ask`,
        clients: options.clients,
        seconds: options.seconds,
        body: (i) => ({ question: questionFor(options.questions, i) }),
        onTick: () => {
          const { rss, anon } = memoryMb(pid);
          samples.push(rss);
          anonSamples.push(anon);
        },
      });
      const end = memoryMb(pid);
      const rssEndMb = end.rss;
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
        anonWarmMb: anonSamples[warmIndex],
        anonEndMb: end.anon,
        heapAfterGc,
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
 * Memory growth after warm-up, as a share: of the live heap after full collections (the first one past a
 * third of the run against the last one) when at least two happened then, else of RSS (warm against end).
 */
function memoryGrowth(result: LoadResult): { growth: number; line: string } {
  const late = result.heapAfterGc.filter((g) => g.second >= result.elapsedSeconds / 3);
  if (late.length >= 2) {
    const first = late[0]!;
    const last = late.at(-1)!;
    const growth = (last.liveMb - first.liveMb) / first.liveMb;
    return {
      growth,
      line:
        `live heap after full GC ${first.liveMb} MB (${first.second} s) → ${last.liveMb} MB (${last.second} s), ` +
        `${round(growth * 100, 1)}%; RSS ${result.rssWarmMb} → ${result.rssEndMb} MB` +
        (result.anonWarmMb !== undefined && result.anonEndMb !== undefined
          ? ` (anonymous ${result.anonWarmMb} → ${result.anonEndMb} MB, the rest the mapped database)`
          : ''),
    };
  }
  const growth = result.rssWarmMb > 0 ? (result.rssEndMb - result.rssWarmMb) / result.rssWarmMb : 0;
  return {
    growth,
    line:
      `memory after warm-up ${result.rssWarmMb} MB → end ${result.rssEndMb} MB RSS (${round(growth * 100, 1)}%; ` +
      `too few full collections to judge the heap)`,
  };
}

/**
 * The verdicts of a run: no errors, and memory flat after warm-up (growth below `FLAT_MEMORY_GROWTH`).
 *
 * @example
 * judgeLoad(result); // { ok: true, lines: ['errors: 0 — ok', 'live heap after full GC ... — flat'] }
 */
export function judgeLoad(result: LoadResult): { ok: boolean; lines: string[] } {
  const memory = memoryGrowth(result);
  const flat = memory.growth < FLAT_MEMORY_GROWTH;
  const noErrors = result.errors === 0;
  return {
    ok: flat && noErrors,
    lines: [
      `errors: ${result.errors}${noErrors ? ' — ok' : ` — FAILED ${JSON.stringify(result.errorStatuses)}`}`,
      `${memory.line} — ${flat ? 'flat' : 'GROWING'}`,
    ],
  };
}
