import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { StatementCache } from '../src/store/statements.ts';
import type { Store } from '../src/store/store.ts';
import { TextSearch } from '../src/store/text-search.ts';
import { MIN_CANDIDATES } from '../src/store/vector-search.ts';
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

describe('sqlite store search', () => {
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

  it('chunks read once are served again, but never after their document is replaced, here or by another process', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'first version', unit(0))]);
    const [old] = store.searchText(kb.id, 'first', 5);
    expect(store.getChunks([old!.chunkId, 999]).map((c) => c.text)).toEqual(['first version']);

    store.replaceDocument(kb.id, doc('a.md'), [chunk(0, 'second version', unit(0))]);
    expect(store.getChunks([old!.chunkId])).toEqual([]);
    const [current] = store.searchText(kb.id, 'second', 5);
    expect(store.getChunks([current!.chunkId]).map((c) => c.text)).toEqual(['second version']);

    // Another connection (the ingest CLI while the server runs) deletes the document.
    const other = openSqliteStore(file);
    other.deleteDocument(kb.id, 'a.md');
    other.close();
    expect(store.getChunks([current!.chunkId])).toEqual([]);
  });

  it('reads more chunks than it remembers without losing any, in the order asked', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    store.replaceDocument(
      kb.id,
      doc('many.md'),
      Array.from({ length: 2100 }, (_, i) => chunk(i, `chunk ${i}`, unit(i))),
    );
    const ids = store.searchText(kb.id, 'chunk', 3000).map((h) => h.chunkId);
    expect(ids).toHaveLength(2100);
    expect(store.getChunks(ids.slice(0, 1500))).toHaveLength(1500);
    const all = store.getChunks(ids);
    expect(all.map((c) => c.id)).toEqual(ids);
    expect(store.getChunks([...ids].reverse()).map((c) => c.id)).toEqual([...ids].reverse());
  });

  it('vector search of a small knowledge base never returns chunks of another one stored in between', () => {
    const a = store.createKnowledgeBase('a', embedder, {});
    const b = store.createKnowledgeBase('b', embedder, {});
    // Written in turns, so the two knowledge bases' chunk ids interleave.
    for (let i = 0; i < 6; i++) {
      store.replaceDocument(a.id, doc(`a${i}.md`), [chunk(0, `alpha ${i}`, unit(i, 0.5))]);
      store.replaceDocument(b.id, doc(`b${i}.md`), [chunk(0, `beta ${i}`, unit(2))]);
    }
    const inA = new Set(store.searchText(a.id, 'alpha', 10).map((h) => h.chunkId));
    const hits = store.searchVector(a.id, unit(2), 4);
    // b's chunks are all exactly on the query; none may appear, and a's come in exact order.
    expect(hits).toHaveLength(4);
    expect(hits.every((h) => inA.has(h.chunkId))).toBe(true);
    const texts = store.getChunks(hits.map((h) => h.chunkId)).map((c) => c.text);
    expect(texts.slice(0, 2).sort()).toEqual(['alpha 1', 'alpha 2']);
    expect(hits.map((h) => h.distance)).toEqual([...hits.map((h) => h.distance)].sort((x, y) => x - y));
  });

  it('optimize leaves every search result as it was', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    for (let i = 0; i < 12; i++) {
      store.replaceDocument(kb.id, doc(`d${i}.md`), [
        chunk(0, `walrus ${i} lives in the cold sea`, unit(i)),
        chunk(1, `penguin ${i} 也住在冰冷的海里`, unit(i + 1)),
      ]);
    }
    store.deleteDocument(kb.id, 'd3.md');
    const before = [store.searchText(kb.id, 'walrus sea', 30), store.searchText(kb.id, '冰冷', 30)];
    const near = store.searchVector(kb.id, unit(5), 5);
    store.optimize(kb.id);
    expect([store.searchText(kb.id, 'walrus sea', 30), store.searchText(kb.id, '冰冷', 30)]).toEqual(before);
    expect(before[0]).toHaveLength(11);
    expect(store.searchVector(kb.id, unit(5), 5)).toEqual(near);
  });

  it('a full-text query over budget keeps its rarest terms', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    const common = Array.from({ length: 6 }, (_, i) => chunk(i, `common filler number ${i}`, unit(i)));
    store.replaceDocument(kb.id, doc('a.md'), [...common, chunk(6, 'common and rare walrus', unit(6))]);
    const db = new Database(file);
    const search = new TextSearch(new StatementCache(db), { postingsBudget: 3 });
    const current = { id: kb.id, revision: store.getKnowledgeBase('docs')!.revision, chunkCount: 7 };

    expect(search.search(current, 'common walrus', 10).map((h) => h.chunkId)).toHaveLength(1);
    expect(search.search(current, 'common', 10)).toHaveLength(7);
    // A knowledge base small enough that no query can exceed the budget keeps every term.
    expect(search.search({ ...current, chunkCount: 1 }, 'common walrus', 10)).toHaveLength(7);
    expect(store.searchText(kb.id, 'common walrus', 10)).toHaveLength(7);
    db.close();
  });

  it('term frequencies survive small changes to the knowledge base and are recounted after large ones', () => {
    const kb = store.createKnowledgeBase('docs', embedder, {});
    const write = (name: string, count: number, text: (i: number) => string) =>
      store.replaceDocument(
        kb.id,
        doc(name),
        Array.from({ length: count }, (_, i) => chunk(i, text(i), unit(i))),
      );
    // 'common' in 21 chunks, over a budget of 20; 'walrus' in one.
    write('common.md', 21, (i) => `common filler ${i}`);
    write('walrus.md', 1, () => 'walrus');
    write('other.md', 8, (i) => `other filler ${i}`);
    const db = new Database(file);
    const search = new TextSearch(new StatementCache(db), { postingsBudget: 20 });
    const current = () => {
      const { id, revision } = store.getKnowledgeBase('docs')!;
      return { id, revision, chunkCount: store.stats(id).chunks };
    };
    expect(search.search(current(), 'common walrus', 50)).toHaveLength(1);

    // 30 → 28 chunks (under a tenth): the cached count of 21 still leaves 'common' out.
    write('common.md', 19, (i) => `common filler ${i}`);
    expect(search.search(current(), 'common walrus', 50)).toHaveLength(1);

    // 28 → 24 chunks from the 30 counted at first (over a tenth): recounted, 'common' (15) now fits.
    write('common.md', 15, (i) => `common filler ${i}`);
    expect(search.search(current(), 'common walrus', 50)).toHaveLength(16);
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
