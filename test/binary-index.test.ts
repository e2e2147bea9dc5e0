import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { describe, expect, it } from 'vitest';
import { BinaryIndex, binaryCode, fillTables } from '../src/store/binary-index.ts';

/** Σ query[i] · (bit i of code ? +1 : -1), the score the index computes. */
function signScore(code: Uint8Array, query: Float32Array): number {
  return query.reduce((sum, q, i) => sum + ((code[i >> 3]! >> (i & 7)) & 1 ? q : -q), 0);
}

/** Σ over the code's bytes of the entries its two nibbles select in the byte's two tables. */
function tableScore(code: Uint8Array, tables: Uint8Array): number {
  return code.reduce(
    (sum, byte, j) => sum + tables[32 * j + (byte & 15)]! + tables[32 * j + 16 + (byte >> 4)]!,
    0,
  );
}

describe('binary index', () => {
  it('codes vectors like sqlite-vec vec_quantize_binary, zero-padding the last byte', () => {
    const db = new Database(':memory:');
    sqliteVec.load(db);
    const vector = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.7));
    const expected = db.prepare('SELECT vec_quantize_binary(?) AS code').get(Buffer.from(vector.buffer)) as {
      code: Buffer;
    };
    db.close();
    expect(Buffer.from(binaryCode(vector))).toEqual(expected.code);
    expect([...binaryCode(new Float32Array([0.5, -1, 2, 0, 0, 0, 0, 0, 3]))]).toEqual([0b101, 0b1]);
  });

  it('proposes the codes whose signs agree most with the large components of the query', () => {
    const index = new BinaryIndex(8);
    const vectors = [
      [1, 1, 1, 1, -1, -1, -1, -1],
      [-1, 1, 1, 1, -1, -1, -1, -1],
      [1, -1, -1, -1, 1, 1, 1, 1],
      [-1, -1, -1, -1, -1, -1, -1, -1],
    ].map((v) => binaryCode(Float32Array.from(v)));
    index.append([10, 20, 30, 40], Buffer.concat(vectors));
    // Component 0 dominates: agreeing on it beats agreeing on the small ones.
    const query = Float32Array.from([0.9, 0.1, 0.1, 0.1, -0.1, -0.1, -0.1, -0.1]);

    expect(index.nearest(query, 1)).toEqual([10]);
    expect(index.nearest(query, 2).sort()).toEqual([10, 30]);
    expect(index.nearest(query, 9).sort()).toEqual([10, 20, 30, 40]);
    expect(index.maxId).toBe(40);
  });

  it('proposes the best codes by its quantised score, close to the sum in JavaScript, also after queries dirtied the memory later codes reuse', () => {
    const dims = 100; // 13 code bytes, padded to 16 in memory
    let seed = 9;
    const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
    const index = new BinaryIndex(dims);
    const all: Uint8Array[] = [];
    const query = Float32Array.from({ length: dims }, random);
    const tables = new Uint8Array(32 * 16);
    fillTables(tables, query);
    // Each table's entries span at most 127 steps, the widest exactly.
    const widest = Math.max(
      ...Array.from({ length: 32 }, (_, t) => Math.max(...tables.subarray(16 * t, 16 * t + 16))),
    );
    expect(widest).toBe(127);
    let step = 0;
    for (let t = 0; t < 25; t++) {
      const part = query.subarray(4 * t, 4 * t + 4);
      step = Math.max(step, part.reduce((sum, q) => sum + Math.abs(q), 0) / 127);
    }
    for (let batch = 0; batch < 5; batch++) {
      const codes = Array.from({ length: 700 }, () =>
        binaryCode(Float32Array.from({ length: dims }, random)),
      );
      index.append(
        codes.map((_, i) => all.length + i + 1),
        Buffer.concat(codes),
      );
      all.push(...codes);
      const count = 50;
      const quantised = all.map((c) => tableScore(c, tables));
      const cut = [...quantised].sort((a, b) => b - a)[count - 1]!;
      const got = index.nearest(query, count);
      expect(got).toHaveLength(count);
      expect(new Set(got).size).toBe(count);
      for (const id of got) expect(quantised[id - 1]).toBeGreaterThanOrEqual(cut);
      // Rounding moves each of the 25 tables' entries by at most half a step: a ±1 sum by 2 × 25 / 2.
      const exactCut = all.map((c) => signScore(c, query)).sort((a, b) => b - a)[count - 1]!;
      for (const id of got)
        expect(signScore(all[id - 1]!, query)).toBeGreaterThanOrEqual(exactCut - 2 * 25 * step);
    }
  });

  it('grows past its initial capacity and refuses ids that do not ascend', () => {
    const index = new BinaryIndex(8);
    const ids = Array.from({ length: 3000 }, (_, i) => i + 1);
    index.append(
      ids,
      new Uint8Array(3000).map((_, i) => i % 256),
    );
    expect(index.size).toBe(3000);
    const best = index.nearest(Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1]), 11);
    expect(best.every((id) => (id - 1) % 256 === 255)).toBe(true);
    expect(() => index.append([5], new Uint8Array(1))).toThrow(/ascend/);
  });
});
