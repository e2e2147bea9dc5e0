import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultChunkOptions } from '../ingest/chunk.ts';
import { ChunkPool } from '../ingest/chunk-pool.ts';
import { loaderFor } from '../ingest/loaders/registry.ts';
import { prepareDocument } from '../ingest/prepare.ts';
import { ingestDirectory, type IngestOptions } from '../ingest/run.ts';
import { walkFiles } from '../ingest/walk.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { createOpenAIEmbedder } from '../src/embed/openai.ts';
import { EmbedderMismatchError } from '../src/errors.ts';
import { createOpenAIClient } from '../src/llm/client.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');

function paragraph(topic: string, n: number): string {
  return Array.from(
    { length: 6 },
    (_, i) => `The ${topic} subsystem handles case ${n}.${i} with care and records what it did.`,
  ).join(' ');
}

/** A Markdown guide long enough to make several chunks: one section per topic. */
function guide(topics: string[]): string {
  return ['---', 'title: Operations guide', '---', '', '# Operations guide', '']
    .concat(topics.flatMap((t, i) => [`## ${t}`, '', paragraph(t, i), '', paragraph(t, i + 100), '']))
    .join('\n');
}

let dir: string;
let docs: string;
let store: Store;
const embedder = createLocalEmbedder();

function run(overrides: Partial<IngestOptions> = {}) {
  return ingestDirectory({ dir: docs, kb: 'default', store, embedder, ...overrides });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-ingest-'));
  docs = join(dir, 'docs');
  mkdirSync(join(docs, 'zh'), { recursive: true });
  writeFileSync(join(docs, 'guide.md'), guide(['backup', 'restore', 'monitoring', 'alerting', 'upgrades']));
  writeFileSync(join(docs, 'faq.txt'), 'Where are logs kept? In /var/log/kb, rotated daily.\n');
  writeFileSync(
    join(docs, 'zh', '检索.md'),
    '# 混合检索\n\n知识库使用向量检索和全文检索，并用倒数排名融合合并结果。中文文本按字和字对切分后建立索引。\n',
  );
  writeFileSync(join(docs, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  store = openSqliteStore(join(dir, 'kb.sqlite'));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ingestDirectory', () => {
  it('ingests every supported file, skips the others, and makes Chinese text searchable', async () => {
    const summary = await run();
    expect(summary).toMatchObject({ added: 3, changed: 0, unchanged: 0, skipped: 1, failed: 0 });
    expect(summary.chunks).toBeGreaterThan(3);
    expect(summary.embeddedChunks).toBe(summary.chunks);
    const kb = store.getKnowledgeBase('default')!;
    expect(store.listDocuments(kb.id).map((d) => d.path)).toEqual(['faq.txt', 'guide.md', 'zh/检索.md']);
    const [hit] = store.searchText(kb.id, '倒数排名', 5);
    expect(store.getChunks([hit!.chunkId])[0]!.path).toBe('zh/检索.md');
  });

  it('re-ingesting an unchanged folder embeds nothing', async () => {
    await run();
    const again = await run();
    expect(again).toMatchObject({ added: 0, changed: 0, unchanged: 3, deleted: 0, chunks: 0 });
    expect(again.embeddingRequests).toBe(0);
    expect(again.embeddedChunks).toBe(0);
  });

  it('a file touched without changing its content is unchanged and keeps the revision', async () => {
    await run();
    const revision = store.getKnowledgeBase('default')!.revision;
    utimesSync(join(docs, 'guide.md'), new Date(), new Date(Date.now() + 5000));
    const again = await run();
    expect(again).toMatchObject({ unchanged: 3, changed: 0, embeddedChunks: 0 });
    expect(store.getKnowledgeBase('default')!.revision).toBe(revision);
    // The new mtime was recorded, so the next run does not even hash the file.
    expect((await run()).unchanged).toBe(3);
  });

  it('editing one section re-embeds only the chunks whose text changed', async () => {
    const first = await run();
    const guideChunks = store
      .listDocuments(store.getKnowledgeBase('default')!.id)
      .find((d) => d.path === 'guide.md')!.chunkCount;
    expect(guideChunks).toBeGreaterThanOrEqual(5);
    const text = readFileSync(join(docs, 'guide.md'), 'utf8').replace(
      'The alerting subsystem handles case 3.0',
      'The alerting subsystem pages the on-call engineer for case 3.0',
    );
    writeFileSync(join(docs, 'guide.md'), text);
    const second = await run();
    expect(second).toMatchObject({ changed: 1, unchanged: 2, added: 0 });
    expect(second.chunks).toBe(guideChunks);
    expect(second.embeddedChunks).toBeGreaterThanOrEqual(1);
    expect(second.embeddedChunks).toBeLessThan(guideChunks);
    expect(second.reusedChunks).toBe(guideChunks - second.embeddedChunks);
    expect(first.chunks).toBeGreaterThan(second.embeddedChunks);
    const kb = store.getKnowledgeBase('default')!;
    const [hit] = store.searchText(kb.id, 'on-call engineer pages', 3);
    expect(store.getChunks([hit!.chunkId])[0]!.text).toContain('pages the on-call engineer');
  });

  it('a deleted file disappears from the knowledge base and from search', async () => {
    await run();
    unlinkSync(join(docs, 'zh', '检索.md'));
    const summary = await run();
    expect(summary).toMatchObject({ deleted: 1, unchanged: 2 });
    const kb = store.getKnowledgeBase('default')!;
    expect(store.listDocuments(kb.id).map((d) => d.path)).toEqual(['faq.txt', 'guide.md']);
    expect(store.searchText(kb.id, '倒数排名', 5)).toEqual([]);
  });

  it('a dry run reports what would change and writes nothing', async () => {
    const dry = await run({ dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, added: 3, skipped: 1, chunks: 0, embeddingRequests: 0 });
    expect(store.getKnowledgeBase('default')).toBeUndefined();
    await run();
    writeFileSync(join(docs, 'faq.txt'), 'Logs are in /srv/logs now.\n');
    unlinkSync(join(docs, 'guide.md'));
    const revision = store.getKnowledgeBase('default')!.revision;
    const dry2 = await run({ dryRun: true });
    expect(dry2).toMatchObject({ changed: 1, deleted: 1, unchanged: 1 });
    expect(store.getKnowledgeBase('default')!.revision).toBe(revision);
    expect(store.listDocuments(store.getKnowledgeBase('default')!.id)).toHaveLength(3);
  });

  it('another embedder is refused with both named and --rebuild suggested; --rebuild switches', async () => {
    await run();
    const other = createLocalEmbedder({ dimensions: 256 });
    const attempt = run({ embedder: other });
    await expect(attempt).rejects.toBeInstanceOf(EmbedderMismatchError);
    await expect(attempt).rejects.toThrow(/384d.*256d.*--rebuild/s);
    const rebuilt = await run({ embedder: other, rebuild: true });
    expect(rebuilt).toMatchObject({ added: 3, unchanged: 0 });
    expect(store.getKnowledgeBase('default')!.embedder.dimensions).toBe(256);
  });

  it('changing the chunk size re-chunks every document on the next run', async () => {
    await run();
    const summary = await run({ chunk: { maxTokens: 120, overlapTokens: 10 } });
    expect(summary.changed).toBe(3);
    expect((await run({ chunk: { maxTokens: 120, overlapTokens: 10 } })).unchanged).toBe(3);
  });

  it('a bad file is reported with its reason and the others are ingested', async () => {
    writeFileSync(join(docs, 'empty.md'), '');
    cpSync(join(FIXTURES, 'bad'), join(docs, 'bad'), { recursive: true });
    const summary = await run();
    expect(summary.added).toBe(3);
    const reasons = Object.fromEntries(summary.failures.map((f) => [f.path, f.reason]));
    expect(reasons['empty.md']).toMatch(/empty/);
    const badPdfs = summary.failures.filter((f) => f.path.startsWith('bad/'));
    expect(badPdfs.length).toBeGreaterThanOrEqual(2);
    expect(badPdfs.some((f) => /encrypt|password/i.test(f.reason))).toBe(true);
    expect(summary.failed).toBe(summary.failures.length);
  });

  it('a chunk worker prepares files exactly as the main thread does, failures included', async () => {
    cpSync(join(FIXTURES, 'bad'), join(docs, 'bad'), { recursive: true });
    const files = (await walkFiles(docs)).files.filter((path) => loaderFor(path));
    const settle = (path: string, prepared: Promise<unknown>) =>
      prepared.then(
        (document) => ({ path, document }),
        (error: Error) => ({ path, error: error.message }),
      );
    const pool = new ChunkPool(true);
    try {
      expect(await pool.started()).toBe(true);
      const inWorker = [];
      const inline = [];
      for (const path of files) {
        const bytes = readFileSync(join(docs, path));
        inWorker.push(await settle(path, pool.prepare(path, bytes, defaultChunkOptions)));
        inline.push(await settle(path, prepareDocument(path, bytes, defaultChunkOptions)));
      }
      expect(inWorker).toEqual(inline);
      expect(inline.filter((r) => 'error' in r).length).toBeGreaterThanOrEqual(2);
      // With the local embedder's description, the worker embeds too, exactly as the embedder here does.
      const bytes = readFileSync(join(docs, 'guide.md'));
      const embedded = await pool.prepare('guide.md', bytes, defaultChunkOptions, embedder.portable);
      expect(embedded.vectors).toEqual(await embedder.embed(embedded.drafts.map((d) => d.embedText)));
    } finally {
      pool.close();
    }
    expect(await pool.started()).toBe(false);
  });

  it('ingesting with the chunk worker on gives the same knowledge base', async () => {
    const inline = await run({ chunkWorker: false });
    const other = openSqliteStore(join(dir, 'worker.sqlite'));
    try {
      const worker = await ingestDirectory({
        dir: docs,
        kb: 'default',
        store: other,
        embedder,
        chunkWorker: true,
      });
      expect({ ...worker, seconds: 0 }).toEqual({ ...inline, seconds: 0 });
      // Documents finish in another order from run to run: compare the chunks, not their ids.
      const ids = Array.from({ length: inline.chunks }, (_, i) => i + 1);
      const chunks = (s: Store) =>
        s
          .getChunks(ids)
          .map((c) => `${c.path}\n${c.heading}\n${c.text}`)
          .sort();
      expect(chunks(other)).toEqual(chunks(store));
    } finally {
      other.close();
    }
  });

  it('a missing folder is an error that names it', async () => {
    await expect(run({ dir: join(dir, 'nope') })).rejects.toThrow(/no such folder/);
  });
});

/** The `openai` embedder of an unknown model against `fake`, without retries. */
function fakeEmbedder(fake: FakeOpenAI, options: { batchSize: number; concurrency: number }) {
  const client = createOpenAIClient({ apiKey: 'sk-test', baseURL: fake.url, timeoutMs: 5000, maxRetries: 0 });
  return createOpenAIEmbedder({ client, model: 'fake-embed', ...options });
}

describe('ingesting with the openai embedder', () => {
  it('requests carry the chunks of several documents, and each chunk gets its own vector', async () => {
    const fake = await startFakeOpenAI({ embeddingDimensions: 8 });
    try {
      const remote = fakeEmbedder(fake, { batchSize: 64, concurrency: 2 });
      rmSync(docs, { recursive: true });
      mkdirSync(docs);
      const topics = [
        'backups',
        'restores',
        'upgrades',
        'logs',
        'alerts',
        'keys',
        'quotas',
        'ports',
        'proxies',
        'widgets',
      ];
      topics.forEach((topic, i) =>
        writeFileSync(join(docs, `${topic}.md`), `# ${topic}\n\n${paragraph(topic, i)}\n`),
      );

      const summary = await run({ embedder: remote });
      expect(summary).toMatchObject({ added: 10, embeddedChunks: 10 });
      // One document at a time would be 10 requests (plus the probe of the vector length).
      expect(summary.embeddingRequests).toBeLessThanOrEqual(3);
      const sent = fake.requestsTo('embeddings').map((r) => (r.body.input as string[]).length);
      expect(sent.slice(1).reduce((a, b) => a + b, 0)).toBe(10);
      expect(Math.max(...sent)).toBeGreaterThan(1);

      const kb = store.getKnowledgeBase('default')!;
      const chunks = store.getChunks(store.searchText(kb.id, topics.join(' '), 50).map((h) => h.chunkId));
      expect(chunks).toHaveLength(10);
      const stored = store.vectorsByTextHash(
        kb.id,
        chunks.map((c) => c.textHash),
      );
      for (const chunk of chunks) {
        const [alone] = await remote.embed([`${chunk.heading}\n\n${chunk.text}`]);
        expect(Array.from(stored.get(chunk.textHash)!)).toEqual(Array.from(alone!));
      }
    } finally {
      await fake.close();
    }
  });

  it('an interrupted run leaves a consistent knowledge base and the next run continues', async () => {
    const fake = await startFakeOpenAI({ embeddingDimensions: 8 });
    try {
      const remote = fakeEmbedder(fake, { batchSize: 4, concurrency: 1 });
      // The first document embeds, then the provider fails for good.
      fake.enqueue('embeddings', { delayMs: 0 }, { status: 500, times: Infinity });
      await expect(run({ embedder: remote, concurrency: 1 })).rejects.toThrow();
      const kb = store.getKnowledgeBase('default')!;
      const partial = store.listDocuments(kb.id);
      expect(partial.length).toBeLessThan(3);
      for (const doc of partial) {
        expect(doc.chunkCount).toBeGreaterThan(0);
        expect(
          store.getChunks(store.searchText(kb.id, doc.title, 50).map((h) => h.chunkId)).length,
        ).toBeGreaterThan(0);
      }
      fake.reset();
      const resumed = await run({ embedder: remote });
      expect(resumed.added + resumed.unchanged).toBe(3);
      expect(resumed.unchanged).toBe(partial.length);
      expect(store.stats(kb.id).documents).toBe(3);
    } finally {
      await fake.close();
    }
  });
});
