import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDirectory } from '../ingest/run.ts';
import { loadConfig } from '../src/config.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { sqliteFeedbackStore } from '../src/feedback/sqlite-feedback-store.ts';
import { hybridSearch, retrieve, type FusionOptions, type RankedChunk } from '../src/rag/retrieve.ts';
import type { AskResponse } from '../src/shared/protocol.ts';
import { sqliteConversationStore } from '../src/store/conversations.ts';
import { openSqliteDatabase, sqliteStore } from '../src/store/sqlite.ts';
import type { KnowledgeBase } from '../src/store/store.ts';
import { createTestApp, expectError, postAsk, type TestKnowledgeBase } from './app-fixture.ts';

/**
 * Retrieval (`hybridSearch`, `retrieve`) and the sources `/ask` returns, over small real knowledge bases:
 * Markdown files in a temp folder, ingested with the local embedder into real SQLite.
 */

const FIXTURES = join(import.meta.dirname, 'fixtures', 'docs');

/** A knowledge base `default` built from `files` (path → Markdown text, or a fixture to copy). */
async function buildKnowledgeBase(
  files: Record<string, string | { fixture: string }>,
): Promise<TestKnowledgeBase> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-retrieve-'));
  const docs = join(dir, 'docs');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(docs, path)), { recursive: true });
    if (typeof content === 'string') writeFileSync(join(docs, path), content);
    else copyFileSync(join(FIXTURES, content.fixture), join(docs, path));
  }
  const embedder = createLocalEmbedder();
  const db = openSqliteDatabase(join(dir, 'kb.sqlite'));
  const store = sqliteStore(db);
  const summary = await ingestDirectory({ dir: docs, kb: 'default', store, embedder });
  expect(summary.failed).toBe(0);
  return {
    dir,
    store,
    embedder,
    feedback: sqliteFeedbackStore(db),
    conversations: sqliteConversationStore(db),
    close() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Retrieval settings as the service reads them (no API key: the local embedder's defaults). */
function retrievalConfig(env: Record<string, string> = {}) {
  return loadConfig(env, { envFile: false }).retrieval;
}

/** Fusion of equal weights with the textbook constant, unless `env` says otherwise. */
function fusion(env: Record<string, string> = {}): FusionOptions {
  const { rrfK, vectorWeight, textWeight } = retrievalConfig({
    RRF_K: '60',
    VECTOR_WEIGHT: '1',
    TEXT_WEIGHT: '1',
    ...env,
  });
  return { rrfK, vectorWeight, textWeight, candidates: 30 };
}

/**
 * One chunk per file. The pairs the tests rely on (checked by the tests themselves, so a change of the
 * local embedder shows up as a failed precondition, not as a puzzling order):
 * - "harbourmaster" is the word in pier.md only; masters.md ("harbour masters") is nearer as a vector.
 * - "photograph of a walrus": walrus.md is second by full text and third by vector, studio.md the reverse.
 */
const CORPUS = {
  'studio.md':
    '# Studio\n\nPhotography lighting, photography lenses, photographers and photographic studios.\n',
  'hall.md':
    '# Hall\n\nA photograph of a walrus hangs in the hall, beside maps of the harbour and old ship logs kept by the harbour master.\n',
  'walrus.md': '# Walrus\n\nThe walrus lives on arctic ice floes and dives for clams on the sea floor.\n',
  'pier.md':
    '# Pier\n\nThe harbourmaster keeps the pier log, and visitors ask at the office about berths, fees, tides, fuel and the weather for the next days. Ferries leave at nine, noon and six; the cafe by the gate sells tea, soup and bread.\n',
  'masters.md': '# Harbour masters\n\nHarbour masters and the mastery of a harbour.\n',
  'backup.md': '# Backups\n\nTo back up the database, copy data/kb.sqlite while the server is stopped.\n',
  'zh/检索.md': '# 混合检索\n\n知识库使用向量检索和全文检索，并用倒数排名融合合并结果。\n',
};

let corpus: TestKnowledgeBase;
let kb: KnowledgeBase;
beforeAll(async () => {
  corpus = await buildKnowledgeBase(CORPUS);
  kb = corpus.store.getKnowledgeBase('default')!;
});
afterAll(() => corpus?.close());

/** The document path of each ranked chunk, in order. */
function paths(ranked: readonly RankedChunk[]): string[] {
  const records = new Map(corpus.store.getChunks(ranked.map((r) => r.chunkId)).map((c) => [c.id, c.path]));
  return ranked.map((r) => records.get(r.chunkId)!);
}

function byPath(ranked: readonly RankedChunk[], path: string): RankedChunk {
  const found = ranked[paths(ranked).indexOf(path)];
  if (!found) throw new Error(`${path} is not in the ranking`);
  return found;
}

/** `hybridSearch` over the shared corpus, with `fusion(env)`. */
function search(query: string, env: Record<string, string> = {}): Promise<RankedChunk[]> {
  return hybridSearch(corpus.store, corpus.embedder, kb, query, fusion(env));
}

describe('hybridSearch', () => {
  it('scores each chunk by reciprocal rank fusion of its ranks in the vector and full-text rankings', async () => {
    const query = 'photograph of a walrus';
    const options = fusion({ RRF_K: '7', VECTOR_WEIGHT: '0.5', TEXT_WEIGHT: '2' });
    const ranked = await hybridSearch(corpus.store, corpus.embedder, kb, query, options);

    const [vector] = await corpus.embedder.embed([query]);
    const vectorIds = corpus.store.searchVector(kb.id, vector!, options.candidates).map((h) => h.chunkId);
    const textIds = corpus.store.searchText(kb.id, query, options.candidates).map((h) => h.chunkId);
    expect(textIds.length).toBeGreaterThan(0);
    expect(ranked.map((r) => r.chunkId).sort()).toEqual([...new Set([...vectorIds, ...textIds])].sort());
    for (const r of ranked) {
      const vectorRank = vectorIds.indexOf(r.chunkId) + 1 || undefined;
      const textRank = textIds.indexOf(r.chunkId) + 1 || undefined;
      expect({ vectorRank: r.vectorRank, textRank: r.textRank }).toEqual({ vectorRank, textRank });
      const expected = (vectorRank ? 0.5 / (7 + vectorRank) : 0) + (textRank ? 2 / (7 + textRank) : 0);
      expect(r.score).toBeCloseTo(expected, 12);
    }
    const scores = ranked.map((r) => r.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('a chunk found by both rankings outranks one that only leads the vector ranking', async () => {
    const ranked = await search('harbourmaster');
    const pier = byPath(ranked, 'pier.md');
    const masters = byPath(ranked, 'masters.md');
    expect([masters.vectorRank, masters.textRank]).toEqual([1, undefined]);
    expect(pier).toMatchObject({ vectorRank: 2, textRank: 1 });
    // Strictly, not by the tie rule: both ranks count.
    expect(pier.score).toBeGreaterThan(masters.score);
    expect(paths(ranked).slice(0, 2)).toEqual(['pier.md', 'masters.md']);
  });

  it('the weights decide which ranking wins where the two disagree', async () => {
    const query = 'photograph of a walrus';
    const vectorHeavy = await search(query, { VECTOR_WEIGHT: '3', TEXT_WEIGHT: '1' });
    expect(byPath(vectorHeavy, 'studio.md')).toMatchObject({ vectorRank: 2, textRank: 3 });
    expect(byPath(vectorHeavy, 'walrus.md')).toMatchObject({ vectorRank: 3, textRank: 2 });
    expect(paths(vectorHeavy).slice(0, 3)).toEqual(['hall.md', 'studio.md', 'walrus.md']);

    const textHeavy = await search(query, { VECTOR_WEIGHT: '1', TEXT_WEIGHT: '3' });
    expect(paths(textHeavy).slice(0, 3)).toEqual(['hall.md', 'walrus.md', 'studio.md']);
    // Won on score, not by the tie rule (which also favours full text).
    expect(byPath(textHeavy, 'walrus.md').score).toBeGreaterThan(byPath(textHeavy, 'studio.md').score);
  });

  it('equal fused scores go to the chunk ranked better by full text', async () => {
    const ranked = await search('photograph of a walrus');
    // walrus.md is 3rd + 2nd, studio.md 2nd + 3rd: the same sum.
    expect(byPath(ranked, 'walrus.md').score).toBe(byPath(ranked, 'studio.md').score);
    expect(paths(ranked).slice(1, 3)).toEqual(['walrus.md', 'studio.md']);
  });

  it('a weight of 0 turns its ranking off', async () => {
    const textOnly = await search('harbourmaster', { VECTOR_WEIGHT: '0' });
    // Only the chunk containing the word: the vector ranking's neighbours are not even candidates.
    expect(paths(textOnly)).toEqual(['pier.md']);
    const [hit] = textOnly;
    expect([hit?.textRank, hit?.vectorRank, hit?.similarity]).toEqual([1, undefined, undefined]);

    const vectorOnly = await search('harbourmaster', { TEXT_WEIGHT: '0' });
    expect(paths(vectorOnly).slice(0, 2)).toEqual(['masters.md', 'pier.md']);
    expect(vectorOnly.every((r) => r.textRank === undefined && r.vectorRank !== undefined)).toBe(true);
  });
});

describe('retrieve', () => {
  it('keeps passages that contain enough of the question or are similar enough as vectors', async () => {
    const question = 'photograph of a walrus';
    const all = await retrieve(corpus.store, corpus.embedder, kb, question, retrievalConfig());
    expect(all.chunks.map((c) => [c.path, c.coverage])).toEqual([
      ['hall.md', 1],
      ['walrus.md', 0.5],
      ['studio.md', 0.5],
    ]);
    // Every passage covers part of the question; asking for all of it (and an unreachable similarity)
    // leaves the one that has it all, although the others' fused scores are close to its.
    const strict = await retrieve(
      corpus.store,
      corpus.embedder,
      kb,
      question,
      retrievalConfig({ MIN_TERM_COVERAGE: '1', MIN_VECTOR_SIMILARITY: '1' }),
    );
    expect(strict.chunks.map((c) => c.path)).toEqual(['hall.md']);

    // masters.md has none of the question's words but is near as a vector: relevant by similarity only.
    const near = await retrieve(corpus.store, corpus.embedder, kb, 'harbourmaster', retrievalConfig());
    const masters = near.chunks.find((c) => c.path === 'masters.md');
    expect(masters?.coverage).toBe(0);
    expect(masters?.similarity).toBeGreaterThanOrEqual(retrievalConfig().minVectorSimilarity);
    const noVector = await retrieve(
      corpus.store,
      corpus.embedder,
      kb,
      'harbourmaster',
      retrievalConfig({ MIN_VECTOR_SIMILARITY: '0.99' }),
    );
    expect(noVector.chunks.map((c) => c.path)).toEqual(['pier.md']);
  });

  it('nothing relevant means no chunks and found: false, although the fused ranking is never empty', async () => {
    const question = 'quantum chromodynamics on a lattice';
    const options = retrievalConfig();
    const ranked = await hybridSearch(corpus.store, corpus.embedder, kb, question, {
      ...options,
      candidates: 30,
    });
    // Nearest neighbours always exist, and they have positive fused scores.
    expect(ranked.length).toBe(Object.keys(CORPUS).length);
    expect(ranked[0]!.score).toBeGreaterThan(0);
    expect(await retrieve(corpus.store, corpus.embedder, kb, question, options)).toEqual({
      chunks: [],
      found: false,
    });
  });

  it('a Chinese question finds the Chinese document, searched by the same segmentation as the index', async () => {
    const result = await retrieve(
      corpus.store,
      corpus.embedder,
      kb,
      '知识库怎么合并检索结果？',
      retrievalConfig(),
    );
    expect(result.found).toBe(true);
    expect(result.chunks[0]).toMatchObject({ path: 'zh/检索.md', heading: '混合检索', textRank: 1 });
    expect(result.chunks[0]!.coverage).toBeGreaterThan(0);
  });
});

describe('retrieve limits', () => {
  /** Eight passages about walruses, each relevant to the question, of about 20 to 40 tokens. */
  const walruses = Object.fromEntries(
    Array.from({ length: 8 }, (_, i) => [
      `walrus-${i}.md`,
      `# Walrus note ${i}\n\nThe walrus ${'rests on the ice and '.repeat(i % 3)}dives for clams in cold water, note ${i}.\n`,
    ]),
  );
  const question = 'Where does the walrus dive for clams?';
  let herd: TestKnowledgeBase;
  let herdKb: KnowledgeBase;
  beforeAll(async () => {
    herd = await buildKnowledgeBase({
      ...walruses,
      'copy-a.md': '# Rotation\n\nLogs rotate daily and are kept for fourteen days.\n',
      'copy-b.md': '# Log rotation\n\nLogs rotate daily and are kept for fourteen days.\n',
    });
    herdKb = herd.store.getKnowledgeBase('default')!;
  });
  afterAll(() => herd?.close());

  it('returns at most topK passages (TOP_K, default 6), the best ones', async () => {
    const six = await retrieve(herd.store, herd.embedder, herdKb, question, retrievalConfig());
    expect(six.chunks).toHaveLength(6);
    const two = await retrieve(herd.store, herd.embedder, herdKb, question, retrievalConfig({ TOP_K: '2' }));
    expect(two.chunks.map((c) => c.id)).toEqual(six.chunks.slice(0, 2).map((c) => c.id));
  });

  it('the passages together stay within CONTEXT_TOKENS, so a small budget gives fewer', async () => {
    const wide = await retrieve(
      herd.store,
      herd.embedder,
      herdKb,
      question,
      retrievalConfig({ TOP_K: '20' }),
    );
    expect(wide.chunks).toHaveLength(8);
    const total = wide.chunks.reduce((sum, c) => sum + c.tokenCount, 0);
    expect(total).toBeGreaterThan(100);

    const narrow = await retrieve(
      herd.store,
      herd.embedder,
      herdKb,
      question,
      retrievalConfig({ TOP_K: '20', CONTEXT_TOKENS: '100' }),
    );
    expect(narrow.chunks.length).toBeGreaterThan(1);
    expect(narrow.chunks.length).toBeLessThan(8);
    expect(narrow.chunks.reduce((sum, c) => sum + c.tokenCount, 0)).toBeLessThanOrEqual(100);
    expect(narrow.chunks[0]!.id).toBe(wide.chunks[0]!.id);
  });

  it('the best passage is kept even when it alone is over the budget', async () => {
    const options = { ...retrievalConfig(), contextTokens: 5 };
    const result = await retrieve(herd.store, herd.embedder, herdKb, question, options);
    expect(result.chunks).toHaveLength(1);
    expect(result.chunks[0]!.tokenCount).toBeGreaterThan(5);
  });

  it('the same paragraph in two documents is one passage', async () => {
    const question = 'How long are logs kept?';
    const ranked = await hybridSearch(herd.store, herd.embedder, herdKb, question, fusion());
    const texts = herd.store.getChunks(ranked.slice(0, 2).map((r) => r.chunkId)).map((c) => c.text);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toBe(texts[1]);

    const result = await retrieve(herd.store, herd.embedder, herdKb, question, retrievalConfig());
    expect(result.chunks.filter((c) => c.text === texts[0])).toHaveLength(1);

    const { app } = createTestApp(herd);
    const body = (await (await postAsk(app, { question })).json()) as AskResponse;
    expect(body.sources.filter((s) => s.path.startsWith('copy-'))).toHaveLength(1);
  });
});

describe('POST /ask sources', () => {
  let linked: TestKnowledgeBase;
  beforeAll(async () => {
    linked = await buildKnowledgeBase({
      'getting started.md':
        '# Getting started\n\nInstall the walrus tracker, then start it with npm start.\n',
      '指南/安装 说明.md': '# 安装\n\n安装海象追踪器：先运行 npm install，再运行 npm start。\n',
      'manuals/bash.pdf': { fixture: 'bash-reference-excerpt.pdf' },
    });
  });
  afterAll(() => linked?.close());

  async function ask(env: Record<string, string>, body: Record<string, unknown>): Promise<AskResponse> {
    const res = await postAsk(createTestApp(linked, { env }).app, body);
    expect(res.status).toBe(200);
    return (await res.json()) as AskResponse;
  }

  it('each source has index, documentId, path, title, heading, snippet and score, and no url by default', async () => {
    const body = await ask({}, { question: 'How do I start the walrus tracker?' });
    expect(body.found).toBe(true);
    const documents = linked.store.listDocuments(linked.store.getKnowledgeBase('default')!.id);
    const source = body.sources[0]!;
    expect(Object.keys(source).sort()).toEqual(
      ['documentId', 'heading', 'index', 'path', 'score', 'snippet', 'title'].sort(),
    );
    expect(source).toMatchObject({
      index: 1,
      path: 'getting started.md',
      documentId: documents.find((d) => d.path === 'getting started.md')!.id,
      heading: 'Getting started',
      snippet: 'Install the walrus tracker, then start it with npm start.',
    });
    expect(source.score).toBeGreaterThan(0);
    expect(body.sources.map((s) => s.index)).toEqual(body.sources.map((_, i) => i + 1));
  });

  it('SOURCE_BASE_URL links each source, with spaces and Chinese characters percent-encoded', async () => {
    const env = { SOURCE_BASE_URL: 'https://docs.example.com/kb/' };
    const english = await ask(env, { question: 'How do I start the walrus tracker?' });
    expect(english.sources[0]).toMatchObject({
      path: 'getting started.md',
      url: 'https://docs.example.com/kb/getting%20started.md',
    });
    const chinese = await ask(env, { question: '怎么安装海象追踪器？' });
    expect(chinese.sources[0]).toMatchObject({
      path: '指南/安装 说明.md',
      url: 'https://docs.example.com/kb/%E6%8C%87%E5%8D%97/%E5%AE%89%E8%A3%85%20%E8%AF%B4%E6%98%8E.md',
    });
    for (const source of [...english.sources, ...chinese.sources]) {
      expect(new URL(source.url!).pathname).toMatch(/^\/kb\/[^/]/);
    }
  });

  it('a source from a PDF carries its page, and its url points at that page', async () => {
    const body = await ask(
      { SOURCE_BASE_URL: 'https://docs.example.com' },
      { question: 'What does the bash builtin command do?' },
    );
    const pdf = body.sources.find((s) => s.path === 'manuals/bash.pdf');
    expect(pdf?.page).toBeGreaterThanOrEqual(1);
    expect(pdf?.url).toBe(`https://docs.example.com/manuals/bash.pdf#page=${pdf!.page}`);
    expect(body.sources.filter((s) => s.path !== 'manuals/bash.pdf').every((s) => !('page' in s))).toBe(true);
  });

  it('topK in the request limits the sources', async () => {
    const all = await ask({}, { question: 'walrus tracker npm start install' });
    expect(all.sources.length).toBeGreaterThan(1);
    const one = await ask({}, { question: 'walrus tracker npm start install', topK: 1 });
    expect(one.sources).toHaveLength(1);
  });

  it('kb sent as a number and history with a non-string content are 400 invalid_request', async () => {
    const { app } = createTestApp(linked);
    const kbError = await expectError(await postAsk(app, { question: 'q', kb: 1 }), 400, 'invalid_request');
    expect(kbError.message).toBe('kb: expected a string');
    const historyError = await expectError(
      await postAsk(app, { question: 'q', history: [{ role: 'user', content: 42 }] }),
      400,
      'invalid_request',
    );
    expect(historyError.message).toBe('history.0.content: expected a string');
  });
});
