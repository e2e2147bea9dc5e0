import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { MISSING_KEY_MESSAGE, assertSameEmbedder, createEmbedder } from '../src/embed/create.ts';
import type { EmbedderSettings } from '../src/embed/create.ts';
import { LOCAL_MODEL, createLocalEmbedder } from '../src/embed/local.ts';
import { stem } from '../src/embed/local-lexicon.ts';
import { AppError, EmbedderMismatchError } from '../src/errors.ts';

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

async function similarities(anchor: string, ...others: string[]): Promise<number[]> {
  const [a, ...rest] = await createLocalEmbedder().embed([anchor, ...others]);
  return rest.map((v) => cosine(a!, v));
}

function stemmed(word: string): string {
  const buffer = Uint16Array.from(word, (c) => c.charCodeAt(0));
  return String.fromCharCode(...buffer.subarray(0, stem(buffer, buffer.length)));
}

describe('local embedder', () => {
  it('is deterministic across calls and instances, with a versioned model name', async () => {
    const text = 'Rebuild the knowledge base after changing the embedder.';
    const [a] = await createLocalEmbedder().embed([text]);
    const [b, c] = await createLocalEmbedder().embed([text, text]);
    expect(a).toEqual(b);
    expect(b).toEqual(c);
    const embedder = createLocalEmbedder();
    expect([embedder.provider, embedder.model]).toEqual(['local', LOCAL_MODEL]);
    expect(LOCAL_MODEL).toMatch(/^local-hash-v\d+$/);
  });

  it('returns unit vectors of 384 dimensions by default, or the configured length', async () => {
    const [v384] = await createLocalEmbedder().embed(['vectors of unit length']);
    expect(v384).toHaveLength(384);
    expect(Math.hypot(...v384!)).toBeCloseTo(1, 5);
    for (const dimensions of [64, 1000, 4096]) {
      const embedder = createLocalEmbedder({ dimensions });
      expect(await embedder.dimensions()).toBe(dimensions);
      const [v] = await embedder.embed(['vectors of unit length']);
      expect(v).toHaveLength(dimensions);
      expect(Math.hypot(...v!)).toBeCloseTo(1, 5);
    }
  });

  it('refuses dimensions outside 64..4096 or not integers', () => {
    for (const dimensions of [32, 5000, 100.5]) {
      expect(() => createLocalEmbedder({ dimensions })).toThrow(RangeError);
    }
  });

  it('scores a paraphrase sharing words above an unrelated text', async () => {
    const [paraphrase, unrelated] = await similarities(
      'How do I rebuild the search index after changing documents?',
      'Rebuilding the index is needed when documents change.',
      'The weather in Paris was sunny and warm all week.',
    );
    expect(paraphrase!).toBeGreaterThan(unrelated! + 0.2);
  });

  it('matches inflections and typos through stems and character n-grams', async () => {
    const [inflected, typo, unrelated] = await similarities(
      'configuring components',
      'configured component',
      'configuraton of componets',
      'weather forecast',
    );
    expect(inflected!).toBeGreaterThan(0.5);
    expect(typo!).toBeGreaterThan(unrelated! + 0.2);
  });

  it('scores Chinese texts sharing words above unrelated Chinese text', async () => {
    const [related, unrelated] = await similarities(
      '如何重建知识库的索引？',
      '修改文档以后需要重建知识库索引。',
      '今天天气很好，我们去公园散步吧。',
    );
    expect(related!).toBeGreaterThan(unrelated! + 0.2);
  });

  it('folds case, full-width forms and accents, so they embed alike', async () => {
    const [a, b] = await createLocalEmbedder().embed(['ＡＰＩ Key Café', 'api key cafe']);
    expect(a).toEqual(b);
  });

  it('gives an all-zero vector, never NaN, for text without words', async () => {
    const vectors = await createLocalEmbedder().embed(['', '   ', '--- !!! ---', '🙂🙂']);
    for (const vector of vectors) {
      expect(vector.every((x) => x === 0)).toBe(true);
    }
    const [mixed] = await createLocalEmbedder().embed(['emoji 🙂 and 𠀀𠀁 rare Han']);
    expect(mixed!.every(Number.isFinite)).toBe(true);
    expect(Math.hypot(...mixed!)).toBeCloseTo(1, 5);
  });

  it('embeds long texts whose features outgrow the initial table', async () => {
    const long = Array.from({ length: 5000 }, (_, i) => `word${i} token${i % 97}`).join(' ');
    const [a, b] = await createLocalEmbedder().embed([long, 'word1 token1']);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 5);
    const [again] = await createLocalEmbedder().embed(['word1 token1']);
    expect(b).toEqual(again);
  });

  it('reports batches of 64 texts through onRequest and stops when aborted', async () => {
    const sizes: number[] = [];
    const vectors = await createLocalEmbedder().embed(
      Array.from({ length: 130 }, (_, i) => `text ${i}`),
      { onRequest: (n) => sizes.push(n) },
    );
    expect(sizes).toEqual([64, 64, 2]);
    expect(vectors).toHaveLength(130);
    const controller = new AbortController();
    controller.abort();
    await expect(createLocalEmbedder().embed(['x'], { signal: controller.signal })).rejects.toThrow();
  });

  it('stems plurals and verb forms consistently', () => {
    expect(['studies', 'study', 'studied'].map(stemmed)).toEqual(['study', 'study', 'study']);
    expect(['running', 'run', 'runs'].map(stemmed)).toEqual(['run', 'run', 'run']);
    expect(['making', 'make', 'makes'].map(stemmed)).toEqual(['mak', 'mak', 'mak']);
    expect(['agreed', 'agree', 'need', 'needed'].map(stemmed)).toEqual(['agre', 'agre', 'need', 'need']);
    expect(['classes', 'class', 'status', 'quickly'].map(stemmed)).toEqual([
      'class',
      'class',
      'status',
      'quick',
    ]);
  });
});

describe('createEmbedder', () => {
  const settings: EmbedderSettings = {
    provider: 'local',
    model: 'text-embedding-3-small',
    batchSize: 128,
    concurrency: 4,
    localDimensions: 256,
  };

  it('builds the local embedder with the local dimensions', async () => {
    const embedder = createEmbedder(settings);
    expect(embedder.provider).toBe('local');
    expect(await embedder.dimensions()).toBe(256);
  });

  it('builds the OpenAI embedder over the given client', async () => {
    const openai = new OpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });
    const embedder = createEmbedder({ ...settings, provider: 'openai', openai });
    expect([embedder.provider, embedder.model]).toEqual(['openai', 'text-embedding-3-small']);
    expect(await embedder.dimensions()).toBe(1536);
  });

  it('explains in one line that the openai provider needs a key', () => {
    let error: unknown;
    try {
      createEmbedder({ ...settings, provider: 'openai' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(AppError);
    expect((error as Error).message).toBe(MISSING_KEY_MESSAGE);
    expect(MISSING_KEY_MESSAGE).toBe(
      'EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY; set it, or use EMBEDDING_PROVIDER=local',
    );
  });
});

describe('assertSameEmbedder', () => {
  const stored = { provider: 'openai', model: 'text-embedding-3-small', dimensions: 1536 };

  it('accepts the same embedder', () => {
    expect(() => assertSameEmbedder('docs', stored, { ...stored })).not.toThrow();
  });

  it('names both embedders when provider, model or length differ', () => {
    const current = { provider: 'local', model: LOCAL_MODEL, dimensions: 384 };
    expect(() => assertSameEmbedder('docs', stored, current)).toThrow(EmbedderMismatchError);
    expect(() => assertSameEmbedder('docs', stored, current)).toThrow(
      /"docs".*openai\/text-embedding-3-small \(1536d\).*local\/local-hash-v1 \(384d\)/,
    );
    expect(() => assertSameEmbedder('docs', stored, { ...stored, dimensions: 512 })).toThrow(
      EmbedderMismatchError,
    );
  });
});
