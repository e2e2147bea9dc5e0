import { describe, expect, it } from 'vitest';
import { createSignKernel } from '../src/store/sign-kernel.ts';
import { prng } from './prng.ts';

describe('sign kernel', () => {
  it('scores blocks of 16 transposed codes like the table sums in JavaScript', () => {
    const random = prng(3);
    const kernel = createSignKernel();
    kernel.memory.grow(1);
    const bytes = new Uint8Array(kernel.memory.buffer);
    for (const stride of [4, 48]) {
      const blocks = 3;
      const codes = Array.from({ length: 16 * blocks }, () =>
        Uint8Array.from({ length: stride }, () => Math.floor(random() * 256)),
      );
      // Block b holds byte j of its codes c at 16 * (b * stride + j) + c.
      codes.forEach((code, i) =>
        code.forEach((byte, j) => (bytes[16 * ((i >> 4) * stride + j) + (i & 15)] = byte)),
      );
      const tablesAt = 16 * blocks * stride;
      const tables = Uint8Array.from({ length: 32 * stride }, () => Math.floor(random() * 128));
      // The extremes: two entries of 127 must not overflow.
      tables.fill(127, 0, 32);
      bytes.set(tables, tablesAt);
      const outAt = tablesAt + tables.length;
      kernel.score(0, blocks, stride, tablesAt, outAt);
      const expected = codes.map((code) =>
        code.reduce(
          (sum, byte, j) => sum + tables[32 * j + (byte & 15)]! + tables[32 * j + 16 + (byte >> 4)]!,
          0,
        ),
      );
      expect([...new Uint16Array(kernel.memory.buffer, outAt, codes.length)]).toEqual(expected);
    }
  });

  it('counts scores per value and collects the indices of scores at or above a cut', () => {
    const random = prng(4);
    const kernel = createSignKernel();
    const n = 1003; // not a multiple of 8: scores past n are read but never collected
    const scores = new Uint16Array(kernel.memory.buffer, 0, n + 5);
    for (let i = 0; i < scores.length; i++) scores[i] = Math.floor(random() * 300);
    const binsAt = 4096;
    const bins = new Uint32Array(kernel.memory.buffer, binsAt, 300).fill(0);
    kernel.histogram(0, n, binsAt);
    const expected = new Array<number>(300).fill(0);
    for (const score of scores.subarray(0, n)) expected[score]!++;
    expect([...bins]).toEqual(expected);
    for (const cut of [0, 150, 299, 300]) {
      const outAt = 8192;
      const found = kernel.collect(0, n, cut, outAt);
      const indices = [...scores.subarray(0, n).keys()].filter((i) => scores[i]! >= cut);
      expect([...new Uint32Array(kernel.memory.buffer, outAt, found)]).toEqual(indices);
    }
  });
});
