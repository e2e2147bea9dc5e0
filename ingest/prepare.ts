/**
 * Loading, chunking and (with a portable embedder) embedding one file: the CPU-heavy work of ingesting it
 * that needs nothing but the file's bytes (no store, no connection), so that it can run in the chunk
 * worker (chunk-worker.ts) while the main thread writes the documents before it.
 */
import { basename, extname } from 'node:path';
import type { Embedder, PortableEmbedder } from '../src/embed/embedder.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { chunkDocument, type ChunkOptions, type DraftChunk } from './chunk.ts';
import type { LoadedDocument } from './loaders/loader.ts';
import { loaderFor } from './loaders/registry.ts';

/**
 * A loaded and chunked file: what the store needs of it besides the file's stat and hash.
 *
 * @example
 * const prepared: PreparedDocument = { title: 'Guide', metadata: {}, drafts: [] };
 */
export interface PreparedDocument {
  /** The loader's title, else the file name without its extension. */
  title: string;
  metadata: LoadedDocument['metadata'];
  drafts: DraftChunk[];
  /** The vector of each draft's embedText, when a portable embedder was given. */
  vectors?: Float32Array[];
}

/**
 * Loads `bytes` with the loader of `path`'s extension and chunks the text, and embeds the chunks when
 * given a portable embedder. Throws what the loader throws (a broken file), and for a path without a loader.
 *
 * @example
 * const { drafts } = await prepareDocument('guide.md', bytes, defaultChunkOptions);
 */
export async function prepareDocument(
  path: string,
  bytes: Uint8Array,
  chunkOptions: ChunkOptions,
  embedder?: PortableEmbedder,
): Promise<PreparedDocument> {
  const entry = loaderFor(path);
  if (!entry) throw new Error('unsupported file type');
  const loaded = await entry.load(bytes, { path });
  const title = loaded.title.trim() || basename(path, extname(path));
  const drafts = chunkDocument({ ...loaded, title }, chunkOptions);
  const prepared: PreparedDocument = { title, metadata: loaded.metadata, drafts };
  if (embedder && drafts.length > 0) {
    prepared.vectors = await portableEmbedder(embedder).embed(drafts.map((d) => d.embedText));
  }
  return prepared;
}

const embedders = new Map<number, Embedder>();

/** The embedder a PortableEmbedder describes, one per vector length (its hasher keeps scratch tables). */
function portableEmbedder(spec: PortableEmbedder): Embedder {
  let embedder = embedders.get(spec.dimensions);
  if (!embedder) {
    embedder = createLocalEmbedder({ dimensions: spec.dimensions });
    embedders.set(spec.dimensions, embedder);
  }
  return embedder;
}
