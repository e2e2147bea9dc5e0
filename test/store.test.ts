import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../src/store/migrations.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { DIMS, chunk, doc, embedder, unit } from './store-fixture.ts';

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
    expect(() => openSqliteStore(file)).toThrow(
      new RegExp(`schema version ${SCHEMA_VERSION + 1}.*only knows versions up to ${SCHEMA_VERSION}\\b`),
    );
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
});
