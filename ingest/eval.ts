import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Embedder } from '../src/embed/embedder.ts';
import { hybridSearch, type FusionOptions } from '../src/rag/retrieve.ts';
import type { Store } from '../src/store/store.ts';
import type { ChunkOptions } from './chunk.ts';
import { ingestDirectory } from './run.ts';

export interface EvalOptions {
  /** A BEIR-layout folder: corpus.jsonl, queries.jsonl, qrels/test.tsv. */
  dir: string;
  /** Where the corpus is written as one Markdown file per document before the real ingest reads it. */
  workDir: string;
  kb: string;
  store: Store;
  embedder: Embedder;
  chunk?: Partial<ChunkOptions>;
  fusion: Omit<FusionOptions, 'candidates'>;
  /** Cut-off of the metrics; default 10. */
  k?: number;
  /** Evaluate only the first N judged queries (quick runs). */
  limit?: number;
}

/** `{"ndcg@10","recall@10","mrr@10","queries","docs","seconds"}` (the cut-off in the names follows `k`). */
export type EvalResult = Record<string, number>;

function readJsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T);
}

/** query id → (doc id → graded relevance); rows with score 0 are not relevant. */
function readQrels(path: string): Map<string, Map<string, number>> {
  const qrels = new Map<string, Map<string, number>>();
  for (const line of readFileSync(path, 'utf8').split('\n').slice(1)) {
    const [query, doc, score] = line.trim().split('\t');
    if (!query || !doc || !(Number(score) > 0)) continue;
    if (!qrels.has(query)) qrels.set(query, new Map());
    qrels.get(query)!.set(doc, Number(score));
  }
  return qrels;
}

/** A file name for a corpus id that is safe on every file system and maps back one to one. */
function fileFor(id: string): string {
  return `${encodeURIComponent(id).replaceAll('%', '_')}.md`;
}

/**
 * Measures retrieval on a BEIR-layout set through the real path: the corpus is written out as Markdown
 * files (`# title` + text), ingested by `ingestDirectory` with the given embedder, and every judged query
 * is run through `hybridSearch`, the ranking `/ask` uses. A document's rank is that of its best chunk.
 * Relevance filtering (which only decides whether anything at all is found) is left out, as it does not
 * change the order.
 *
 * @example
 * const result = await evaluateBeir({ dir: 'eval/scifact', workDir: '/tmp/scifact', kb: 'beir-scifact', store, embedder, fusion });
 */
export async function evaluateBeir(options: EvalOptions): Promise<EvalResult> {
  const started = performance.now();
  const k = options.k ?? 10;
  const corpus = readJsonl<{ _id: string; title?: string; text: string }>(join(options.dir, 'corpus.jsonl'));
  const queries = readJsonl<{ _id: string; text: string }>(join(options.dir, 'queries.jsonl'));
  const qrels = readQrels(join(options.dir, 'qrels', 'test.tsv'));

  mkdirSync(options.workDir, { recursive: true });
  const idByPath = new Map<string, string>();
  for (const doc of corpus) {
    const file = fileFor(doc._id);
    idByPath.set(file, doc._id);
    const path = join(options.workDir, file);
    const body = doc.title ? `# ${doc.title}\n\n${doc.text}\n` : `${doc.text}\n`;
    // Rewriting identical files would only cost a hash check on re-runs, but skipping keeps mtimes stable.
    if (!existsSync(path) || readFileSync(path, 'utf8') !== body) writeFileSync(path, body);
  }
  await ingestDirectory({
    dir: options.workDir,
    kb: options.kb,
    store: options.store,
    embedder: options.embedder,
    ...(options.chunk ? { chunk: options.chunk } : {}),
  });
  const kb = options.store.getKnowledgeBase(options.kb)!;

  const judged = queries.filter((q) => qrels.has(q._id)).slice(0, options.limit ?? Infinity);
  let ndcg = 0;
  let recall = 0;
  let mrr = 0;
  for (const query of judged) {
    const relevant = qrels.get(query._id)!;
    const ranked = await hybridSearch(options.store, options.embedder, kb, query.text, {
      ...options.fusion,
      candidates: k * 10,
    });
    const chunks = options.store.getChunks(ranked.map((r) => r.chunkId));
    const docs: string[] = [];
    for (const chunk of chunks) {
      const id = idByPath.get(chunk.path);
      if (id !== undefined && !docs.includes(id)) docs.push(id);
      if (docs.length === k) break;
    }
    let dcg = 0;
    let firstHit = 0;
    docs.forEach((id, i) => {
      const gain = relevant.get(id) ?? 0;
      if (gain > 0) {
        dcg += (2 ** gain - 1) / Math.log2(i + 2);
        firstHit ||= i + 1;
      }
    });
    const ideal = [...relevant.values()]
      .sort((a, b) => b - a)
      .slice(0, k)
      .reduce((sum, gain, i) => sum + (2 ** gain - 1) / Math.log2(i + 2), 0);
    ndcg += ideal > 0 ? dcg / ideal : 0;
    recall += docs.filter((id) => relevant.has(id)).length / relevant.size;
    mrr += firstHit ? 1 / firstHit : 0;
  }
  const n = judged.length || 1;
  const round = (x: number) => Number(x.toFixed(4));
  return {
    [`ndcg@${k}`]: round(ndcg / n),
    [`recall@${k}`]: round(recall / n),
    [`mrr@${k}`]: round(mrr / n),
    queries: judged.length,
    docs: corpus.length,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  };
}
