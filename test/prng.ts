/**
 * mulberry32: a small, fast, seeded PRNG, so generated test documents and benchmark corpora can be
 * reproduced from their seed.
 *
 * @example
 * const random = prng(1); // random() is in [0, 1)
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
