import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { retrieve } from '../src/rag/retrieve.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { NewChunk } from '../src/store/store.ts';
import { countTokens } from '../src/text/tokens.ts';
import { prng } from '../test/prng.ts';
import { percentile, round } from './stats.ts';

/** Sentences of real documentation (English and Chinese) to build chunks and questions from. */
function sentencePool(sources: string[]): string[] {
  const pool: string[] = [];
  for (const dir of sources) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || extname(entry.name) !== '.md') continue;
      const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
      for (const s of text.split(/(?<=[.!?。！？])\s*|\n+/)) {
        const t = s.trim();
        if (t.length > 20 && !/^[#|`<:-]/.test(t)) pool.push(t);
      }
    }
  }
  return pool;
}

export interface RetrievalBenchRow {
  chunks: number;
  buildSeconds: number;
  queries: number;
  p50Ms: number;
  p95Ms: number;
}

/**
 * End-to-end retrieval latency as `/ask` pays it: embedding the question with the local embedder, vector
 * and full-text search, fusion, loading the passages and judging relevance. The knowledge base is filled
 * with `chunks` passages of 4 to 8 real documentation sentences each (a seeded mix of English and Chinese),
 * embedded by the local embedder; questions are the openings of sentences from the same pool.
 */
export async function benchRetrieval(sizes: number[], sources: string[]): Promise<RetrievalBenchRow[]> {
  const pool = sentencePool(sources);
  if (pool.length < 100) throw new Error('too few sentences to build a retrieval corpus');
  const config = loadConfig({}, { envFile: false });
  const embedder = createLocalEmbedder();
  const rows: RetrievalBenchRow[] = [];
  for (const size of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'kb-bench-retrieval-'));
    let store = openSqliteStore(join(dir, 'kb.sqlite'));
    try {
      const next = prng(size);
      const pick = () => pool[Math.floor(next() * pool.length)]!;
      const started = performance.now();
      const kb = store.createKnowledgeBase(
        'bench',
        { provider: 'local', model: embedder.model, dimensions: 384 },
        {},
      );
      const perDocument = 100;
      for (let d = 0; d * perDocument < size; d++) {
        const texts = Array.from({ length: Math.min(perDocument, size - d * perDocument) }, () =>
          Array.from({ length: 4 + Math.floor(next() * 5) }, pick).join(' '),
        );
        const vectors = await embedder.embed(texts);
        const chunks: NewChunk[] = texts.map((text, i) => ({
          ordinal: i,
          heading: `Section ${i}`,
          text,
          tokenCount: countTokens(text),
          textHash: createHash('sha256').update(text).digest('hex'),
          vector: vectors[i]!,
        }));
        store.replaceDocument(
          kb.id,
          {
            path: `doc-${d}.md`,
            title: `Document ${d}`,
            hash: String(d),
            size: 0,
            mtimeMs: 0,
            format: 'markdown',
            metadata: {},
          },
          chunks,
        );
      }
      const buildSeconds = (performance.now() - started) / 1000;
      // Questions are as long as people's: the first 8 words of a sentence, or 12 characters of Chinese.
      const questions = Array.from({ length: 300 }, () => {
        const sentence = pick();
        return /[\u4e00-\u9fff]/.test(sentence)
          ? Array.from(sentence).slice(0, 12).join('')
          : sentence.split(/\s+/).slice(0, 8).join(' ');
      });
      // Queried through a connection of its own, as the server opens the file that ingest wrote.
      store.close();
      store = openSqliteStore(join(dir, 'kb.sqlite'));
      const current = store.getKnowledgeBase('bench')!;
      // Warm-up: the first queries load indexes and pages into memory.
      for (const q of questions.slice(0, 20)) await retrieve(store, embedder, current, q, config.retrieval);
      const times: number[] = [];
      for (const q of questions) {
        const t = performance.now();
        await retrieve(store, embedder, current, q, config.retrieval);
        times.push(performance.now() - t);
      }
      rows.push({
        chunks: size,
        buildSeconds: round(buildSeconds, 1),
        queries: questions.length,
        p50Ms: round(percentile(times, 50)),
        p95Ms: round(percentile(times, 95)),
      });
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
