import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EmbedderInfo } from '../src/embed/embedder.ts';
import { SCHEMA_VERSION } from '../src/store/migrations.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { StatementCache } from '../src/store/statements.ts';
import { TextSearch } from '../src/store/text-search.ts';
import { MIN_CANDIDATES } from '../src/store/vector-search.ts';
import type { NewChunk, NewDocument, Store } from '../src/store/store.ts';

const DIMS = 8;
const embedder: EmbedderInfo = { provider: 'local', model: 'test-v1', dimensions: DIMS };

/** A unit vector along axis `axis`, optionally tilted towards axis `axis + 1`. */
function unit(axis: number, tilt = 0): Float32Array {
  const v = new Float32Array(DIMS);
  v[axis % DIMS] = 1;
  v[(axis + 1) % DIMS] = tilt;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function doc(docPath: string, hash = `hash-of-${docPath}`): NewDocument {
  return {
    path: docPath,
    title: docPath.toUpperCase(),
    hash,
    size: 100,
    mtimeMs: 1700000000000.5,
    format: 'markdown',
    metadata: { lang: 'en' },
  };
}

function chunk(ordinal: number, text: string, vector: Float32Array, heading = ''): NewChunk {
  return { ordinal, heading, text, tokenCount: text.length, textHash: `th-${text}`, vector };
}

let dir: string;
let file: string;
let store: Store;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-store-'));
  file = path.join(dir, 'nested', 'kb.sqlite');
  store = openSqliteStore(file);
});

afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('sqlite store', () => {
  it('round-trips a knowledge base, its documents and chunks through a file', () => {
    const kb = store.createKnowledgeBase('docs', embedder, { chunkTokens: 400 });
    expect(kb).toMatchObject({ name: 'docs', embedder, settings: { chunkTokens: 400 }, revision: 0 });
    const record = store.replaceDocument(kb.id, doc('guide/intro.md'), [
      chunk(0, 'Install the server with npm.', unit(0), 'Intro'),
      { ...chunk(1, 'Run the ingest command.', unit(1), 'Intro > Usage'), page: 2 },
    ]);
    expect(record).toMatchObject({
      path: 'guide/intro.md',
      title: 'GUIDE/INTRO.MD',
      chunkCount: 2,
      mtimeMs: 1700000000000.5,
    });

    expect(store.listDocuments(kb.id)).toEqual([record]);
    const hits = store.searchVector(kb.id, unit(1), 2);
    const [second, first] = store.getChunks([hits[1]!.chunkId, hits[0]!.chunkId]);
    expect(first).toMatchObject({
      text: 'Run the ingest command.',
      heading: 'Intro > Usage',
      page: 2,
      ordinal: 1,
    });
    expect(first).toMatchObject({ path: 'guide/intro.md', title: 'GUIDE/INTRO.MD', documentId: record.id });
    expect(second).toMatchObject({ text: 'Install the server with npm.', page: null });
    expect(store.stats(kb.id)).toEqual({ documents: 1, chunks: 2, tokens: 28 + 23 });
  });

  it('finds the nearest chunk by cosine distance, closest first', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('a.md'), [
      chunk(0, 'far', unit(4)),
      chunk(1, 'near', unit(2, 0.1)),
      chunk(2, 'exact', unit(2)),
    ]);
    const hits = store.searchVector(kb.id, unit(2), 3);
    expect(store.getChunks(hits.map((h) => h.chunkId)).map((c) => c.text)).toEqual(['exact', 'near', 'far']);
    expect(hits[0]!.distance).toBeCloseTo(0, 5);
    expect(hits[2]!.distance).toBeCloseTo(1, 5);
    expect(store.searchVector(kb.id, unit(2), 0)).toEqual([]);
  });

  it('full-text search stems English words', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('a.md'), [
      chunk(0, 'The configuration lives in a YAML file.', unit(0)),
      chunk(1, 'Nothing relevant here at all.', unit(1)),
    ]);
    const [configChunk] = store.getChunks(store.searchText(kb.id, 'configure', 5).map((h) => h.chunkId));
    expect(configChunk?.ordinal).toBe(0);
    expect(store.searchText(kb.id, 'configured files', 5)).toHaveLength(1);
    expect(store.searchText(kb.id, 'the of and', 5)).toEqual([]);
  });

  it('full-text search finds Chinese words inside runs of Chinese text', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('zh.md'), [
      chunk(0, '这个知识库支持混合检索', unit(0)),
      chunk(1, '今天天气很好', unit(1)),
    ]);
    for (const query of ['知识库', '检索', '如何进行混合检索？']) {
      const hits = store.searchText(kb.id, query, 5);
      expect(hits.length, query).toBeGreaterThan(0);
      expect(store.getChunks([hits[0]!.chunkId])[0]?.ordinal, query).toBe(0);
    }
  });

  it('ranks a match in the heading and scores higher-is-better', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('a.md'), [
      chunk(0, 'Some words about other matters and proxies.', unit(0), 'Network'),
      chunk(1, 'Some words about other matters.', unit(1), 'Proxy settings'),
      chunk(2, 'Unrelated text.', unit(2), 'Misc'),
    ]);
    const hits = store.searchText(kb.id, 'proxy', 5);
    expect(hits).toHaveLength(2);
    expect(store.getChunks([hits[0]!.chunkId])[0]?.heading).toBe('Proxy settings');
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(hits[1]!.score).toBeGreaterThan(0);
  });

  it('user text with FTS5 syntax is searched as words, never parsed', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'near the column of parentheses', unit(0))]);
    const queries = [
      '"unbalanced',
      'a AND OR NOT b',
      'pre*',
      'NEAR(a b, 3)',
      '(foo',
      'heading: text',
      '^start',
      '-x +y',
      "it's",
      '*',
      '""',
      'col:*',
    ];
    for (const query of queries) expect(() => store.searchText(kb.id, query, 5), query).not.toThrow();
    expect(store.searchText(kb.id, 'NEAR(column, 3)', 5)).toHaveLength(1);
  });

  it('replacing a document removes its old chunks from both indexes', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    const first = store.replaceDocument(kb.id, doc('a.md'), [
      chunk(0, 'obsolete walrus', unit(3)),
      chunk(1, 'second', unit(4)),
    ]);
    const oldIds = store.searchVector(kb.id, unit(3), 10).map((h) => h.chunkId);
    const second = store.replaceDocument(kb.id, doc('a.md', 'new-hash'), [
      chunk(0, 'fresh penguin', unit(5)),
    ]);

    expect(second.id).toBe(first.id);
    expect(store.listDocuments(kb.id)).toEqual([
      expect.objectContaining({ hash: 'new-hash', chunkCount: 1 }),
    ]);
    expect(store.searchText(kb.id, 'walrus', 5)).toEqual([]);
    expect(store.searchText(kb.id, 'penguin', 5)).toHaveLength(1);
    const hits = store.searchVector(kb.id, unit(3), 10);
    expect(hits).toHaveLength(1);
    expect(oldIds).not.toContain(hits[0]!.chunkId);
    expect(store.getChunks(oldIds)).toEqual([]);
    expect(store.stats(kb.id)).toMatchObject({ documents: 1, chunks: 1 });
  });

  it('deleting a document removes it and its chunks; deleting an absent one does nothing', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'alpha walrus', unit(0))]);
    store.replaceDocument(kb.id, doc('b.md'), [chunk(0, 'beta walrus', unit(1))]);
    store.deleteDocument(kb.id, 'a.md');
    const revision = store.getKnowledgeBase('docs')!.revision;
    store.deleteDocument(kb.id, 'missing.md');

    expect(store.getKnowledgeBase('docs')!.revision).toBe(revision);
    expect(store.listDocuments(kb.id).map((d) => d.path)).toEqual(['b.md']);
    const hits = store.searchText(kb.id, 'walrus', 5);
    expect(store.getChunks(hits.map((h) => h.chunkId)).map((c) => c.path)).toEqual(['b.md']);
    expect(store.searchVector(kb.id, unit(0), 5)).toHaveLength(1);
  });

  it('deleting a knowledge base drops its tables and rows', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'alpha', unit(0))]);
    store.deleteKnowledgeBase('docs');
    store.deleteKnowledgeBase('docs');
    store.close();

    const db = new Database(file, { readonly: true });
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE name LIKE 'fts\\_%' ESCAPE '\\'`).all();
    const counts = db
      .prepare(
        `SELECT (SELECT count(*) FROM documents) AS d, (SELECT count(*) FROM chunks) AS c,
                (SELECT count(*) FROM chunk_vectors) AS v, (SELECT count(*) FROM chunk_codes) AS b`,
      )
      .get();
    db.close();
    expect(tables).toEqual([]);
    expect(counts).toEqual({ d: 0, c: 0, v: 0, b: 0 });

    store = openSqliteStore(file);
    expect(store.listKnowledgeBases()).toEqual([]);
    const again = store.createKnowledgeBase('docs', { ...embedder, dimensions: 4 }, {});
    expect(again.id).not.toBe(kb.id);
  });

  it('two knowledge bases in one file never see each other', () => {
    const a = store.createKnowledgeBase('a', embedder, {});
    const b = store.createKnowledgeBase('b', { provider: 'openai', model: 'small', dimensions: 4 }, {});
    store.replaceDocument(a.id, doc('same.md'), [chunk(0, 'shared walrus words', unit(0))]);
    store.replaceDocument(b.id, doc('same.md'), [
      chunk(0, 'shared walrus words', new Float32Array([1, 0, 0, 0])),
    ]);

    const [inA] = store.searchText(a.id, 'walrus', 10);
    const [inB] = store.searchText(b.id, 'walrus', 10);
    expect(store.searchText(a.id, 'walrus', 10)).toHaveLength(1);
    expect(inA!.chunkId).not.toBe(inB!.chunkId);
    expect(store.searchVector(b.id, new Float32Array([1, 0, 0, 0]), 10).map((h) => h.chunkId)).toEqual([
      inB!.chunkId,
    ]);
    expect(
      store.vectorsByTextHash(b.id, ['th-shared walrus words']).get('th-shared walrus words'),
    ).toHaveLength(4);

    store.deleteDocument(a.id, 'same.md');
    expect(store.listDocuments(b.id)).toHaveLength(1);
    expect(store.listKnowledgeBases().map((kb) => kb.name)).toEqual(['a', 'b']);
  });

  it('the revision increases on content changes but not on touch or settings', () => {
    const kb = store.createKnowledgeBase('docs', embedder, { chunkTokens: 400 });
    store.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'alpha', unit(0))]);
    const r1 = store.getKnowledgeBase('docs')!.revision;
    store.touchDocument(kb.id, 'a.md', 999, 1800000000000);
    store.updateKnowledgeBaseSettings(kb.id, { chunkTokens: 200 });
    const touched = store.getKnowledgeBase('docs')!;
    store.replaceDocument(kb.id, doc('b.md'), []);
    const r2 = store.getKnowledgeBase('docs')!.revision;

    expect(r1).toBeGreaterThan(kb.revision);
    expect(touched.revision).toBe(r1);
    expect(touched.settings).toEqual({ chunkTokens: 200 });
    expect(store.listDocuments(kb.id)[0]).toMatchObject({ size: 999, mtimeMs: 1800000000000 });
    expect(r2).toBeGreaterThan(r1);
  });

  it('reopening the file keeps everything and migrates only once', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'persistent walrus', unit(0))]);
    store.close();

    store = openSqliteStore(file);
    expect(store.searchText(kb.id, 'walrus', 5)).toHaveLength(1);
    expect(store.searchVector(kb.id, unit(0), 5)).toHaveLength(1);
    store.close();
    const readonly = openSqliteStore(file, { readonly: true });
    expect(readonly.getKnowledgeBase('docs')?.revision).toBe(1);
    readonly.close();

    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openSqliteStore(file)).toThrow(/schema version 2.*only knows versions up to 1/);
    store = openSqliteStore(':memory:');
  });

  it('returns stored vectors by text hash for reuse', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    const chunks = Array.from({ length: 1200 }, (_, i) => chunk(i, `text ${i}`, unit(i % DIMS, i / 1200)));
    store.replaceDocument(kb.id, doc('a.md'), chunks);
    const wanted = [...chunks.map((c) => c.textHash), 'th-unknown'];
    const vectors = store.vectorsByTextHash(kb.id, wanted);

    expect(vectors.size).toBe(1200);
    expect(vectors.has('th-unknown')).toBe(false);
    expect([...vectors.get('th-text 7')!]).toEqual([...chunks[7]!.vector]);
    expect(store.vectorsByTextHash(kb.id, [])).toEqual(new Map());
  });

  it('rejects vectors whose length is not the knowledge base dimensions', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    expect(() => store.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'x', new Float32Array(3))])).toThrow(
      /3 dimensions.*8-dimensional/,
    );
    expect(() => store.searchVector(kb.id, new Float32Array(9), 5)).toThrow(/9 dimensions/);
    expect(store.listDocuments(kb.id)).toEqual([]);
  });

  it('validates knowledge base names and refuses duplicates', () => {
    for (const name of ['', '.hidden', 'a b', 'x/y', 'é', 'a'.repeat(65)]) {
      expect(() => store.createKnowledgeBase(name, embedder, {}), name).toThrow(
        /invalid knowledge base name/,
      );
    }
    store.createKnowledgeBase('Docs_v1.2-final', embedder, {});
    expect(() => store.createKnowledgeBase('Docs_v1.2-final', embedder, {})).toThrow(/already exists/);
  });

  it('getChunks keeps the order of ids and leaves unknown ids out', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('a.md'), [
      chunk(0, 'zero', unit(0)),
      chunk(1, 'one', unit(1)),
      chunk(2, 'two', unit(2)),
    ]);
    const ids = store.searchVector(kb.id, unit(0), 3).map((h) => h.chunkId);
    const byText = new Map(store.getChunks(ids).map((c) => [c.text, c.id]));
    const order = [byText.get('two')!, 987654, byText.get('zero')!, byText.get('one')!];
    expect(store.getChunks(order).map((c) => c.text)).toEqual(['two', 'zero', 'one']);
    expect(store.getChunks([])).toEqual([]);
  });

  it('ping answers until the store is closed', () => {
    expect(() => store.ping()).not.toThrow();
    store.close();
    expect(() => store.ping()).toThrow();
    store.close();
    store = openSqliteStore(':memory:');
  });
  it('a knowledge base larger than the candidate pool still finds the nearest chunks exactly scored', () => {
    const dims = 64;
    const kb = store.createKnowledgeBase('big', { ...embedder, dimensions: dims }, {});
    let seed = 42;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
    const normalised = (v: Float32Array) => v.map((x) => x / Math.hypot(...v));
    const vectors = Array.from({ length: MIN_CANDIDATES * 3 }, () =>
      normalised(Float32Array.from({ length: dims }, random)),
    );
    for (let d = 0; d < vectors.length / 100; d++) {
      const slice = vectors.slice(d * 100, (d + 1) * 100);
      store.replaceDocument(
        kb.id,
        doc(`d${d}.md`),
        slice.map((v, i) => chunk(i, `d${d} c${i}`, v)),
      );
    }
    const cosineDistance = (a: Float32Array, b: Float32Array) =>
      1 - a.reduce((sum, x, i) => sum + x * b[i]!, 0);

    for (const target of [0, 777, vectors.length - 1]) {
      const query = normalised(vectors[target]!.map((x) => x + random() * 0.02));
      const hits = store.searchVector(kb.id, query, 10);
      const [best] = store.getChunks([hits[0]!.chunkId]);
      expect(best?.text).toBe(`d${Math.floor(target / 100)} c${target % 100}`);
      expect(hits[0]!.distance).toBeCloseTo(cosineDistance(query, vectors[target]!), 5);
      expect(hits.map((h) => h.distance)).toEqual([...hits.map((h) => h.distance)].sort((a, b) => a - b));
    }
  });

  it("another connection's writes are seen by the next search", () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'walrus', unit(0))]);
    expect(store.searchVector(kb.id, unit(0), 1)).toHaveLength(1);
    expect(store.searchText(kb.id, 'walrus penguin', 5)).toHaveLength(1);

    const other = openSqliteStore(file);
    other.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'penguin', unit(3))]);
    other.replaceDocument(kb.id, doc('b.md'), [chunk(0, 'penguin too', unit(5))]);
    other.close();

    const hits = store.searchVector(kb.id, unit(0), 5);
    expect(
      store
        .getChunks(hits.map((h) => h.chunkId))
        .map((c) => c.text)
        .sort(),
    ).toEqual(['penguin', 'penguin too']);
    expect(store.searchText(kb.id, 'walrus', 5)).toEqual([]);
    expect(store.searchText(kb.id, 'penguin', 5)).toHaveLength(2);
    expect(store.stats(kb.id)).toEqual({
      documents: 2,
      chunks: 2,
      tokens: 'penguin'.length + 'penguin too'.length,
    });
  });

  it('stats follow replacements and deletions', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    expect(store.stats(kb.id)).toEqual({ documents: 0, chunks: 0, tokens: 0 });
    store.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'abc', unit(0)), chunk(1, 'defg', unit(1))]);
    store.replaceDocument(kb.id, doc('b.md'), [chunk(0, 'hi', unit(2))]);
    store.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'xyz12', unit(0))]);
    expect(store.stats(kb.id)).toEqual({ documents: 2, chunks: 2, tokens: 5 + 2 });
    store.deleteDocument(kb.id, 'b.md');
    expect(store.stats(kb.id)).toEqual({ documents: 1, chunks: 1, tokens: 5 });
  });

  it('a full-text query over budget keeps its rarest terms', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    const common = Array.from({ length: 6 }, (_, i) => chunk(i, `common filler number ${i}`, unit(i)));
    store.replaceDocument(kb.id, doc('a.md'), [...common, chunk(6, 'common and rare walrus', unit(6))]);
    const db = new Database(file);
    const search = new TextSearch(new StatementCache(db), { postingsBudget: 3 });
    const revision = store.getKnowledgeBase('docs')!.revision;

    expect(search.search(kb.id, revision, 'common walrus', 10).map((h) => h.chunkId)).toHaveLength(1);
    expect(search.search(kb.id, revision, 'common', 10)).toHaveLength(7);
    expect(store.searchText(kb.id, 'common walrus', 10)).toHaveLength(7);
    db.close();
  });
  it('chunks and queries without a direction (zero vectors) are never vector hits', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('a.md'), [
      chunk(0, '---', new Float32Array(DIMS)),
      chunk(1, 'text', unit(1)),
    ]);
    const hits = store.searchVector(kb.id, unit(2), 5);
    expect(store.getChunks(hits.map((h) => h.chunkId)).map((c) => c.text)).toEqual(['text']);
    expect(hits[0]!.distance).toBeCloseTo(1, 5);
    expect(store.searchVector(kb.id, new Float32Array(DIMS), 5)).toEqual([]);
  });
});
