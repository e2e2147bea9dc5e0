import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { ingestDirectory } from '../ingest/run.ts';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { chatModelFromConfig } from '../src/llm/from-config.ts';
import { createLogger } from '../src/log.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../test/fake-openai.ts';
import { runClients } from './clients.ts';
import { percentile, round } from './stats.ts';

/** The bundled bilingual user guide, which the ask benchmarks and the load test answer from. */
export const SAMPLE = join(import.meta.dirname, '..', 'data', 'sample');
/** Questions the sample guide answers, English and Chinese. */
export const QUESTIONS = [
  'How do I rebuild a knowledge base?',
  'Which port does the server listen on by default?',
  'How do I embed the chat widget in an internal site?',
  '如何重建知识库？',
  '流式输出有哪些事件？',
  'What does upstream_unavailable mean?',
];

export interface Latency {
  p50Ms: number;
  p95Ms: number;
}

async function time(n: number, run: (i: number) => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < 20; i++) await run(i);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await run(i);
    times.push(performance.now() - t);
  }
  return { p50Ms: round(percentile(times, 50)), p95Ms: round(percentile(times, 95)) };
}

/**
 * `/ask` latency in-process (`app.request`, no sockets) over the sample knowledge base: extractive, and with
 * a fake model that answers at once; the fake's own round trip, called directly with the SDK, is measured
 * too so the service's overhead can be read as the difference.
 */
export async function benchAskLatency(): Promise<{
  extractive: Latency;
  llm: Latency;
  modelAlone: Latency;
  overheadP50Ms: number;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-bench-ask-'));
  const fake = await startFakeOpenAI({ reply: 'Use --rebuild to start from scratch [1].' });
  const store = openSqliteStore(join(dir, 'kb.sqlite'));
  try {
    const embedder = createLocalEmbedder();
    await ingestDirectory({ dir: SAMPLE, kb: 'default', store, embedder });
    const logger = createLogger({ level: 'silent' });
    const build = (env: Record<string, string>) => {
      // The answer cache off: repeated questions would otherwise measure cache hits.
      const config = loadConfig(
        { EMBEDDING_PROVIDER: 'local', LLM_MAX_RETRIES: '0', CACHE_TTL_SECONDS: '0', ...env },
        { envFile: false },
      );
      const answer = { store, embedder, chat: chatModelFromConfig(config), config };
      return createApp({ answer, store, config, logger });
    };
    const ask = (app: ReturnType<typeof build>) => async (i: number) => {
      const res = await app.request('/ask', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ question: QUESTIONS[i % QUESTIONS.length] }),
      });
      if (res.status !== 200) throw new Error(`/ask answered ${res.status}`);
      await res.text();
    };
    const extractive = await time(300, ask(build({})));
    const llm = await time(300, ask(build({ OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: fake.url })));
    const client = new OpenAI({ apiKey: 'sk-bench', baseURL: fake.url, maxRetries: 0 });
    // Non-streamed, as the service asks the model for a JSON `/ask`.
    const modelAlone = await time(300, () =>
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    );
    return { extractive, llm, modelAlone, overheadP50Ms: round(llm.p50Ms - modelAlone.p50Ms) };
  } finally {
    store.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ServerOptions {
  /** Node options placed before the script (e.g. `--trace-gc`). */
  nodeArgs?: string[];
  /**
   * Called with every line the server writes to stdout after it listens. Without it the output is
   * discarded unread: at hundreds of requests a second, reading logs would cost the bench process CPU.
   */
  onLine?: (line: string) => void;
}

/**
 * Starts `src/main.ts` as a child process on a free loopback port and resolves with its URL once it
 * listens. The caller kills the child.
 *
 * @example
 * const { url, child } = await startServer({ KB_PATH: 'data/kb.sqlite' });
 */
export async function startServer(
  env: Record<string, string>,
  options: ServerOptions = {},
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts'], {
    cwd: join(import.meta.dirname, '..'),
    // One client address sends everything: the per-address limits of a keyless service would refuse it.
    env: {
      ...process.env,
      OPEN_IP_RPM: '0',
      OPEN_IP_DAILY_LIMIT: '0',
      ...env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (data: Buffer) => {
      buffered += data.toString();
      const match = /"msg":"listening","url":"([^"]+)"/.exec(buffered);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  child.stdout!.removeAllListeners('data');
  const { onLine } = options;
  if (onLine) {
    let rest = '';
    child.stdout!.on('data', (data: Buffer) => {
      const lines = (rest + data.toString()).split('\n');
      rest = lines.pop()!;
      lines.forEach(onLine);
    });
  }
  child.stdout!.resume();
  return { url, child };
}

export interface ThroughputRow {
  mode: string;
  clients: number;
  seconds: number;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of the server process per request (Linux; null elsewhere). */
  serverCpuMs: number | null;
  /** CPU time of this process per request: the load generator and, with a model, the fake model. */
  benchCpuMs: number;
}

/** CPU milliseconds (user + system) a process has used so far, from /proc; null where there is none. */
function processCpuMs(pid: number): number | null {
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 a second).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/**
 * Starts `bench/floor-server.ts` (see there) and resolves with its URL once it listens. The caller kills
 * the child.
 */
async function startFloorServer(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/floor-server.ts', ...args], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => {
      const match = /listening (\d+)/.exec(data.toString());
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  child.stdout!.removeAllListeners('data');
  child.stdout!.resume();
  return { url: `http://127.0.0.1:${port}`, child };
}

/**
 * Requests per second of non-streamed `/ask` through a real server process (`src/main.ts`) on loopback,
 * with `clients` concurrent keep-alive clients for `seconds`, extractive and with a fake model that answers
 * at once (served from this process). Then the same load against the floor servers of
 * `bench/floor-server.ts`, which do none of the service's work: what is left of a request's cost there
 * is the HTTP server, the SDK call, the load generator and the fake model, which share this machine's
 * cores with the service. Bounded in time and count: it stops by itself.
 */
export async function benchAskThroughput(clients: number, seconds: number): Promise<ThroughputRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-bench-rps-'));
  const kbPath = join(dir, 'kb.sqlite');
  const store = openSqliteStore(kbPath);
  await ingestDirectory({ dir: SAMPLE, kb: 'default', store, embedder: createLocalEmbedder() });
  store.close();
  let fake: FakeOpenAI | undefined;
  const rows: ThroughputRow[] = [];
  try {
    fake = await startFakeOpenAI({ reply: 'Use --rebuild to start from scratch [1].' });
    const model = { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: fake.url };
    // Six questions repeated would all be answered from the answer cache: measure the uncached path.
    const service = { KB_PATH: kbPath, EMBEDDING_PROVIDER: 'local', CACHE_TTL_SECONDS: '0' };
    const targets: Array<[string, () => Promise<{ url: string; child: ChildProcess }>]> = [
      ['extractive', () => startServer({ ...service, OPENAI_API_KEY: '' })],
      ['llm (instant fake model)', () => startServer({ ...service, ...model })],
      ['floor: bare node:http, no work', () => startFloorServer(['bare'])],
      ['floor: node:http + one SDK call', () => startFloorServer(['sdk', fake!.url])],
    ];
    for (const [mode, start] of targets) {
      const { url, child } = await start();
      try {
        const cpuBefore = processCpuMs(child.pid!);
        const benchBefore = process.cpuUsage();
        const {
          times,
          errors,
          elapsedSeconds: elapsed,
        } = await runClients({
          url: mode.startsWith('floor') ? url : `${url}/ask`,
          clients,
          seconds,
          body: (i) => ({ question: QUESTIONS[i % QUESTIONS.length] }),
        });
        const cpuAfter = processCpuMs(child.pid!);
        const bench = process.cpuUsage(benchBefore);
        const perRequest = (ms: number) => round(ms / Math.max(1, times.length), 3);
        rows.push({
          mode,
          clients,
          seconds: round(elapsed, 1),
          requests: times.length,
          errors,
          requestsPerSecond: Math.round(times.length / elapsed),
          p50Ms: round(percentile(times, 50)),
          p99Ms: round(percentile(times, 99)),
          serverCpuMs: cpuBefore === null || cpuAfter === null ? null : perRequest(cpuAfter - cpuBefore),
          benchCpuMs: perRequest((bench.user + bench.system) / 1000),
        });
      } finally {
        child.kill('SIGTERM');
      }
    }
  } finally {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
