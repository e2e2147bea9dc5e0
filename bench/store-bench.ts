import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { NewChunk } from '../src/store/store.ts';
import { prng } from '../test/prng.ts';
import { HAN, makeVocabulary, noisyCopy, randomUnitVector, zipfSampler } from './synthetic.ts';

/**
 * Store benchmark: insert throughput, query latency and vector recall of the SQLite store on seeded
 * synthetic data. It measures the store alone (no embedding, no HTTP), so it bounds what retrieval can do.
 *
 * Vectors are clustered like real embeddings (one random centre per ~50 chunks plus noise), and each
 * query vector is a noisy copy of a stored one, so the nearest neighbours are meaningful and recall
 * against exact search says something. Texts are Zipf-distributed synthetic words; every tenth chunk is
 * Chinese, and every fifth query.
 */

export interface StoreBenchOptions {
  /** Chunks to insert. Default 10 000. */
  chunks?: number;
  /** Vector length. Default 384. */
  dimensions?: number;
  /** Chunks per document (one `replaceDocument` each). Default 20. */
  chunksPerDocument?: number;
  /** Words per chunk. Default 150. */
  wordsPerChunk?: number;
  /** Queries to time. Default 200. */
  queries?: number;
  /** `k` for both searches. Default 20. */
  k?: number;
  /** Queries whose vector recall@10 is checked against exact search (slow: a full scan each). Default 30. */
  recallQueries?: number;
  /** Where the database file goes; a new temp dir (removed afterwards) by default. */
  dir?: string;
  /** PRNG seed. Default 1. */
  seed?: number;
}

/**
 * Wall-clock milliseconds, and the CPU milliseconds of this process over the same spans: the store is
 * synchronous, so on a machine whose CPUs are shared the CPU time is the better estimate of the
 * latency on an idle one.
 */
export interface LatencyMs {
  p50: number;
  p95: number;
  mean: number;
  cpuP50: number;
  cpuP95: number;
}

export interface StoreBenchResult {
  chunks: number;
  dimensions: number;
  insertChunksPerSecond: number;
  /** Chunks inserted per CPU second of this process. */
  insertChunksPerCpuSecond: number;
  /** The first `searchVector`, which loads the knowledge base's binary index. */
  vectorFirst: LatencyMs;
  /** `searchVector` alone. */
  vector: LatencyMs;
  /** `searchVector` right after another connection replaced a document (the index catches up). */
  vectorAfterWrite: LatencyMs;
  /** `searchText` alone. */
  text: LatencyMs;
  /** `searchVector` + `searchText` + `getChunks` of the union, as hybrid retrieval does. */
  hybrid: LatencyMs;
  /** Exact brute-force cosine KNN (a full scan in SQL), for comparison. */
  exactVector: LatencyMs;
  /** Share of the exact 10 nearest that `searchVector(…, 10)` returns. */
  recallAt10: number;
  fileBytes: number;
}

interface Sample {
  wall: number;
  cpu: number;
}

/** Starts a stopwatch; calling the result reads wall and CPU milliseconds since. */
function stopwatch(): () => Sample {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { wall: performance.now() - wall, cpu: (used.user + used.system) / 1000 };
  };
}

function latency(samples: readonly Sample[]): LatencyMs {
  const quantiles = (values: number[]) => {
    const sorted = values.sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return {
      p50: at(0.5),
      p95: at(0.95),
      mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
    };
  };
  const wall = quantiles(samples.map((s) => s.wall));
  const cpu = quantiles(samples.map((s) => s.cpu));
  return { ...wall, cpuP50: cpu.p50, cpuP95: cpu.p95 };
}

/**
 * Fills a new database and times it.
 *
 * @example
 * const result = await benchStore({ chunks: 100_000 });
 * console.log(result.hybrid.p50); // milliseconds
 */
export async function benchStore(options: StoreBenchOptions = {}): Promise<StoreBenchResult> {
  const total = options.chunks ?? 10_000;
  const dimensions = options.dimensions ?? 384;
  const perDoc = options.chunksPerDocument ?? 20;
  const wordsPerChunk = options.wordsPerChunk ?? 150;
  const queries = options.queries ?? 200;
  const recallQueries = options.recallQueries ?? 30;
  const k = options.k ?? 20;
  const random = prng(options.seed ?? 1);
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kb-store-bench-'));
  const file = path.join(dir, 'bench.sqlite');
  const vocabulary = makeVocabulary(random, 20_000);
  const zipf = zipfSampler(random, vocabulary.length);
  const text = (words: number) => Array.from({ length: words }, () => vocabulary[zipf()]).join(' ');
  const chinese = (chars: number) =>
    Array.from({ length: chars }, () => HAN[Math.floor(random() * HAN.length)]).join('');
  const centres = Array.from({ length: Math.max(1, Math.round(total / 50)) }, () =>
    randomUnitVector(random, dimensions),
  );
  const makeChunks = (doc: number, n: number, first: number): NewChunk[] =>
    Array.from({ length: n }, (_, i) => ({
      ordinal: i,
      heading: text(3),
      text: (first + i) % 10 === 9 ? chinese(wordsPerChunk * 2) : text(wordsPerChunk),
      tokenCount: wordsPerChunk,
      textHash: `${doc}-${i}-${first}`,
      vector: noisyCopy(random, centres[Math.floor(random() * centres.length)]!, 1),
    }));
  const documentOf = (doc: number) => ({
    path: `doc-${doc}.md`,
    title: `Doc ${doc}`,
    hash: `${doc}`,
    size: 1,
    mtimeMs: 0,
    format: 'markdown',
    metadata: {},
  });

  const store = openSqliteStore(file);
  const writer = openSqliteStore(file);
  const raw = new Database(file, { readonly: true });
  sqliteVec.load(raw);
  try {
    const kb = store.createKnowledgeBase('bench', { provider: 'bench', model: 'clustered', dimensions }, {});
    const stored: Float32Array[] = [];
    const insert = { wall: 0, cpu: 0 };
    let documents = 0;
    for (let done = 0; done < total; documents++) {
      const chunks = makeChunks(documents, Math.min(perDoc, total - done), done);
      for (const c of chunks) stored.push(c.vector);
      const elapsed = stopwatch();
      store.replaceDocument(kb.id, documentOf(documents), chunks);
      const { wall, cpu } = elapsed();
      insert.wall += wall;
      insert.cpu += cpu;
      done += chunks.length;
    }
    const queryVector = () => noisyCopy(random, stored[Math.floor(random() * stored.length)]!, 0.5);
    const queryText = (q: number) =>
      q % 5 === 4
        ? chinese(4)
        : Array.from({ length: 4 }, () => vocabulary[20 + Math.floor(random() * 1980)]).join(' ');

    let elapsed = stopwatch();
    store.searchVector(kb.id, queryVector(), k);
    const vectorFirst = elapsed();

    const vectorTimes: Sample[] = [];
    const textTimes: Sample[] = [];
    const hybridTimes: Sample[] = [];
    for (let q = 0; q < queries; q++) {
      const vector = queryVector();
      const query = queryText(q);
      elapsed = stopwatch();
      const vectorHits = store.searchVector(kb.id, vector, k);
      const vectorTime = elapsed();
      elapsed = stopwatch();
      const textHits = store.searchText(kb.id, query, k);
      const textTime = elapsed();
      elapsed = stopwatch();
      store.getChunks([...new Set([...vectorHits, ...textHits].map((h) => h.chunkId))]);
      const chunksTime = elapsed();
      vectorTimes.push(vectorTime);
      textTimes.push(textTime);
      hybridTimes.push({
        wall: vectorTime.wall + textTime.wall + chunksTime.wall,
        cpu: vectorTime.cpu + textTime.cpu + chunksTime.cpu,
      });
    }

    // Another connection (as the ingest CLI would be) replaces a document before each query.
    const afterWriteTimes: Sample[] = [];
    for (let q = 0; q < 20; q++) {
      const doc = Math.floor(random() * documents);
      writer.replaceDocument(kb.id, documentOf(doc), makeChunks(doc, perDoc, q));
      elapsed = stopwatch();
      store.searchVector(kb.id, queryVector(), k);
      afterWriteTimes.push(elapsed());
    }

    const exact = raw.prepare(
      `SELECT c.id FROM chunks c JOIN chunk_vectors v ON v.chunk_id = c.id WHERE c.kb_id = ?
       ORDER BY vec_distance_cosine(v.embedding, ?) LIMIT 10`,
    );
    const exactTimes: Sample[] = [];
    let found = 0;
    for (let q = 0; q < recallQueries; q++) {
      const vector = queryVector();
      elapsed = stopwatch();
      const truth = exact.pluck().all(kb.id, Buffer.from(vector.buffer)) as number[];
      exactTimes.push(elapsed());
      const got = new Set(store.searchVector(kb.id, vector, 10).map((h) => h.chunkId));
      found += truth.filter((id) => got.has(id)).length;
    }

    const bytes = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
    return {
      chunks: total,
      dimensions,
      insertChunksPerSecond: Math.round(total / (insert.wall / 1000)),
      insertChunksPerCpuSecond: Math.round(total / (insert.cpu / 1000)),
      vectorFirst: latency([vectorFirst]),
      vector: latency(vectorTimes),
      vectorAfterWrite: latency(afterWriteTimes),
      text: latency(textTimes),
      hybrid: latency(hybridTimes),
      exactVector: latency(exactTimes),
      recallAt10: recallQueries > 0 ? found / (10 * recallQueries) : Number.NaN,
      fileBytes: bytes(file) + bytes(`${file}-wal`),
    };
  } finally {
    raw.close();
    writer.close();
    store.close();
    if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
  }
}
