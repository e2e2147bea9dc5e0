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
  /** The same for the first questions after the knowledge base is opened (term frequencies not yet known). */
  coldP50Ms: number;
  coldP95Ms: number;
}

/** Questions timed per measurement. */
const QUESTIONS = 300;
/** Questions answered between the cold and the warm measurement. */
const WARMING_QUESTIONS = 1000;

/**
 * End-to-end retrieval latency as `/ask` pays it: embedding the question with the local embedder, vector
 * and full-text search, fusion, loading the passages and judging relevance. The knowledge base is filled
 * with `chunks` passages of 4 to 8 real documentation sentences each (a seeded mix of English and Chinese),
 * embedded by the local embedder; questions are the openings of sentences from the same pool, each one
 * new. `p50Ms`/`p95Ms` are measured once the service has answered 1,300 questions, `cold*` over the first
 * 300 after opening the knowledge base: full-text search counts each common word's document frequency the
 * first time it sees it (then caches it until the knowledge base changes), which costs up to ~1 ms a
 * word at 100k chunks.
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
      const question = () => {
        const sentence = pick();
        return /[\u4e00-\u9fff]/.test(sentence)
          ? Array.from(sentence).slice(0, 12).join('')
          : sentence.split(/\s+/).slice(0, 8).join(' ');
      };
      // Queried through a connection of its own, as the server opens the file that ingest wrote.
      store.close();
      store = openSqliteStore(join(dir, 'kb.sqlite'));
      const current = store.getKnowledgeBase('bench')!;
      const timed = async (count: number) => {
        const times: number[] = [];
        for (let i = 0; i < count; i++) {
          const q = question();
          const t = performance.now();
          await retrieve(store, embedder, current, q, config.retrieval);
          times.push(performance.now() - t);
        }
        return times;
      };
      // Warm-up: the first queries load indexes and pages into memory.
      await timed(20);
      // Just opened: each new common word of a question is counted once (see text-search.ts).
      const cold = await timed(QUESTIONS);
      // A service that has answered a while: most words' frequencies are known.
      await timed(WARMING_QUESTIONS);
      const warm = await timed(QUESTIONS);
      rows.push({
        chunks: size,
        buildSeconds: round(buildSeconds, 1),
        queries: QUESTIONS,
        p50Ms: round(percentile(warm, 50)),
        p95Ms: round(percentile(warm, 95)),
        coldP50Ms: round(percentile(cold, 50)),
        coldP95Ms: round(percentile(cold, 95)),
      });
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
