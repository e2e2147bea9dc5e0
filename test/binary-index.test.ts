import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { describe, expect, it } from 'vitest';
import { BinaryIndex, binaryCode } from '../src/store/binary-index.ts';

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

  it('proposes the codes nearest by Hamming distance', () => {
    const index = new BinaryIndex(64);
    const codes = [0x00, 0xff, 0x0f, 0x01, 0x03].map((b) => new Uint8Array(8).fill(b));
    index.append([10, 20, 30, 40, 50], Buffer.concat(codes));
    const query = new Uint8Array(8).fill(0x00);

    expect(index.nearest(query, 2).sort()).toEqual([10, 40]);
    expect(index.nearest(query, 3).sort()).toEqual([10, 40, 50]);
    expect(index.nearest(query, 9).sort()).toEqual([10, 20, 30, 40, 50]);
    expect(index.maxId).toBe(50);
  });

  it('grows past its initial capacity and refuses ids that do not ascend', () => {
    const index = new BinaryIndex(8);
    const ids = Array.from({ length: 3000 }, (_, i) => i + 1);
    index.append(
      ids,
      new Uint8Array(3000).map((_, i) => i % 256),
    );
    expect(index.size).toBe(3000);
    expect(index.nearest(new Uint8Array([7]), 1).every((id) => (id - 1) % 256 === 7)).toBe(true);
    expect(() => index.append([5], new Uint8Array(1))).toThrow(/ascend/);
  });
});
