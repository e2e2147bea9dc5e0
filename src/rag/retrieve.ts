import type { Embedder } from '../embed/embedder.ts';
import type { ChunkRecord, KnowledgeBase, Store } from '../store/store.ts';
import { termCoverage } from './relevance.ts';

export interface FusionOptions {
  /** Reciprocal rank fusion constant (`RRF_K`, default 60): higher flattens the difference between ranks. */
  rrfK: number;
  /** Weights of the two rankings in the fusion (`VECTOR_WEIGHT`, `TEXT_WEIGHT`, default 1 each). */
  vectorWeight: number;
  textWeight: number;
  /** Candidates taken from each ranking before fusing. */
  candidates: number;
}

export interface RankedChunk {
  chunkId: number;
  /** Fused score: sum over rankings of weight / (rrfK + rank), rank 1-based. */
  score: number;
  /** Cosine similarity to the query when the chunk was among the vector candidates. */
  similarity?: number;
  /** 1-based ranks in each ranking, when present there. */
  vectorRank?: number;
  textRank?: number;
}

/**
 * Hybrid search: nearest neighbours from the vector index and BM25 from the full-text index (segmented like
 * the index, CJK included), fused by reciprocal rank fusion. Returns the fused ranking, best first.
 *
 * @example
 * const ranked = await hybridSearch(store, embedder, kb, 'how do I rebuild?', { rrfK: 60, vectorWeight: 1, textWeight: 1, candidates: 30 });
 */
export async function hybridSearch(
  store: Store,
  embedder: Embedder,
  kb: KnowledgeBase,
  query: string,
  options: FusionOptions,
): Promise<RankedChunk[]> {
  const [vector] = await embedder.embed([query]);
  const vectorHits =
    options.vectorWeight > 0 && vector ? store.searchVector(kb.id, vector, options.candidates) : [];
  const textHits = options.textWeight > 0 ? store.searchText(kb.id, query, options.candidates) : [];
  const fused = new Map<number, RankedChunk>();
  const entry = (chunkId: number) => {
    let found = fused.get(chunkId);
    if (!found) fused.set(chunkId, (found = { chunkId, score: 0 }));
    return found;
  };
  vectorHits.forEach((hit, i) => {
    const e = entry(hit.chunkId);
    e.score += options.vectorWeight / (options.rrfK + i + 1);
    e.similarity = 1 - hit.distance;
    e.vectorRank = i + 1;
  });
  textHits.forEach((hit, i) => {
    const e = entry(hit.chunkId);
    e.score += options.textWeight / (options.rrfK + i + 1);
    e.textRank = i + 1;
  });
  // Ties (same fused score) go to the chunk ranked better by full text, then by id for stable output.
  return [...fused.values()].sort(
    (a, b) =>
      b.score - a.score || (a.textRank ?? Infinity) - (b.textRank ?? Infinity) || a.chunkId - b.chunkId,
  );
}

export interface RetrieveOptions extends Omit<FusionOptions, 'candidates'> {
  /** Most passages to return (`TOP_K`). */
  topK: number;
  /** Token budget of the returned passages together (`CONTEXT_TOKENS`); the best passage is always kept. */
  contextTokens: number;
  /** A passage whose cosine similarity to the question reaches this is relevant (`MIN_VECTOR_SIMILARITY`). */
  minVectorSimilarity: number;
  /** A passage containing this share of the question's terms is relevant (`MIN_TERM_COVERAGE`). */
  minTermCoverage: number;
}

export interface RetrievedChunk extends ChunkRecord, RankedChunk {
  /** Share of the question's meaningful terms found in the passage (0 to 1). */
  coverage: number;
}

export interface Retrieval {
  /** Relevant passages, best first, within `topK` and `contextTokens`. Empty when nothing is relevant. */
  chunks: RetrievedChunk[];
  /** Whether anything relevant was found. */
  found: boolean;
}

/**
 * The passages to answer from. Relevance is decided per passage from signals that mean the same thing for
 * every query (how much of the question the passage contains, and cosine similarity), never from raw fused
 * scores, which only order results. Identical passage texts (the same paragraph in two documents) are kept
 * once.
 *
 * @example
 * const { chunks, found } = await retrieve(store, embedder, kb, question, { topK: 6, contextTokens: 3000, ... });
 */
export async function retrieve(
  store: Store,
  embedder: Embedder,
  kb: KnowledgeBase,
  question: string,
  options: RetrieveOptions,
): Promise<Retrieval> {
  const candidates = Math.max(options.topK * 4, 24);
  const ranked = await hybridSearch(store, embedder, kb, question, { ...options, candidates });
  const pool = ranked.slice(0, candidates);
  const records = new Map(store.getChunks(pool.map((r) => r.chunkId)).map((c) => [c.id, c]));
  const coverage = termCoverage(question);
  const seen = new Set<string>();
  const chunks: RetrievedChunk[] = [];
  let tokens = 0;
  for (const rank of pool) {
    if (chunks.length >= options.topK) break;
    const record = records.get(rank.chunkId);
    if (!record) continue;
    const key = record.text.replace(/\s+/g, ' ').trim();
    if (seen.has(key)) continue;
    seen.add(key);
    const covered = coverage(`${record.title}\n${record.heading}\n${record.text}`);
    const relevant =
      covered >= options.minTermCoverage || (rank.similarity ?? -1) >= options.minVectorSimilarity;
    if (!relevant) continue;
    if (chunks.length > 0 && tokens + record.tokenCount > options.contextTokens) continue;
    tokens += record.tokenCount;
    chunks.push({ ...record, ...rank, coverage: covered });
  }
  return { chunks, found: chunks.length > 0 };
}
