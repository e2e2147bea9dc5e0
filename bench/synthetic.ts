/**
 * Seeded synthetic data for the store benchmark: random and clustered unit vectors, a vocabulary of
 * made-up words with Zipf-distributed frequencies, and Chinese text from a small set of characters.
 */

/**
 * A normalised vector with Gaussian components (uniform direction on the sphere).
 *
 * @example
 * randomUnitVector(prng(1), 384).length // 384
 */
export function randomUnitVector(random: () => number, dimensions: number): Float32Array {
  const v = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const g = Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
    v[i] = g;
    norm += g * g;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < dimensions; i++) v[i]! /= norm;
  return v;
}

/**
 * `base` plus Gaussian noise of norm ~`noise`, normalised: cosine to `base` ~1/sqrt(1 + noise²).
 *
 * @example
 * noisyCopy(prng(1), centre, 1); // a cluster member
 */
export function noisyCopy(random: () => number, base: Float32Array, noise: number): Float32Array {
  const v = randomUnitVector(random, base.length);
  return normalise(base.map((x, i) => x + noise * v[i]!));
}

function normalise(v: Float32Array): Float32Array {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  're',
  'su',
  'ten',
  'dor',
  'vi',
  'an',
  'pel',
  'qu',
  'zo',
  'ber',
  'nix',
  'ul',
  'fa',
];
/** Characters the Chinese chunks and queries are drawn from. */
export const HAN =
  '知识库支持混合检索文档向量模型查询配置服务器索引数据用户系统问题答案搜索结果页面设置安装运行命令';

/**
 * `size` distinct made-up words of 2 to 4 syllables.
 *
 * @example
 * makeVocabulary(prng(1), 3); // e.g. ['kalo', 'mirevi', 'tendorqu']
 */
export function makeVocabulary(random: () => number, size: number): string[] {
  const words = new Set<string>();
  while (words.size < size) {
    const n = 2 + Math.floor(random() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(w);
  }
  return [...words];
}

/**
 * Zipf(1) sampling of ranks 0..n-1 by inverse CDF over a precomputed table.
 *
 * @example
 * const rank = zipfSampler(prng(1), 20_000); rank(); // 0 most often
 */
export function zipfSampler(random: () => number, n: number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1);
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
