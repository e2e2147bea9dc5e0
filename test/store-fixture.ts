import type { EmbedderInfo } from '../src/embed/embedder.ts';
import type { NewChunk, NewDocument } from '../src/store/store.ts';

/** Helpers shared by the store tests: small vectors, documents and chunks. */

export const DIMS = 8;
export const embedder: EmbedderInfo = { provider: 'local', model: 'test-v1', dimensions: DIMS };

/** A unit vector along axis `axis`, optionally tilted towards axis `axis + 1`. */
export function unit(axis: number, tilt = 0): Float32Array {
  const v = new Float32Array(DIMS);
  v[axis % DIMS] = 1;
  v[(axis + 1) % DIMS] = tilt;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** A document at `docPath` whose title is the path upper-cased. */
export function doc(docPath: string, hash = `hash-of-${docPath}`): NewDocument {
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

/** A chunk whose token count is its length and whose text hash is `th-<text>`. */
export function chunk(ordinal: number, text: string, vector: Float32Array, heading = ''): NewChunk {
  return { ordinal, heading, text, tokenCount: text.length, textHash: `th-${text}`, vector };
}
