import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { assertSameEmbedder } from '../src/embed/create.ts';
import { describeEmbedder, type Embedder, type EmbedderInfo } from '../src/embed/embedder.ts';
import { EmbedderMismatchError } from '../src/errors.ts';
import {
  KNOWLEDGE_BASE_NAME,
  type DocumentRecord,
  type KnowledgeBase,
  type KnowledgeBaseSettings,
  type NewChunk,
  type Store,
} from '../src/store/store.ts';
import { defaultChunkOptions, type ChunkOptions } from './chunk.ts';
import { ChunkPool } from './chunk-pool.ts';
import { EmbedBatcher } from './embed-batcher.ts';
import { bytesToLoad, WORKER_MIN_BYTES } from './worker-threshold.ts';
import { loaderFor } from './loaders/registry.ts';
import { walkFiles } from './walk.ts';

/**
 * Bumped whenever chunking changes in a way that alters chunk texts: a knowledge base built with another
 * version (or other chunk settings) has every document re-chunked on the next run. Embeddings of chunk texts
 * that did not change are still reused.
 */
const CHUNKER_VERSION = 2;
/**
 * Longest a document's chunks wait for others' to fill a request to a remote embedder: short beside a
 * round trip to an embeddings API, long enough for the documents in flight to finish chunking.
 */
const EMBED_WAIT_MS = 25;

export interface IngestOptions {
  /** The folder to ingest. */
  dir: string;
  /** Knowledge base name. */
  kb: string;
  store: Store;
  embedder: Embedder;
  chunk?: Partial<ChunkOptions>;
  /** Delete the knowledge base first and ingest everything anew. */
  rebuild?: boolean;
  /** Report what would change and write nothing (no file is loaded or embedded either). */
  dryRun?: boolean;
  /**
   * Documents processed at once (default 4, 16 with the chunk worker); overlaps one document's embedding
   * requests with the next one's loading.
   */
  concurrency?: number;
  /**
   * Load and chunk files in a worker thread (embedding them there too when the embedder is portable, as
   * the local one is), beside the main thread's writes. Default: when the files to load add up to 4 MB or
   * more (below that, starting the worker costs more than it saves).
   */
  chunkWorker?: boolean;
  onEvent?: (event: IngestEvent) => void;
}

export type FileStatus = 'added' | 'changed' | 'unchanged' | 'deleted' | 'skipped' | 'failed';

export type IngestEvent =
  | { type: 'start'; files: number; kb: string; dryRun: boolean }
  | { type: 'file'; path: string; status: FileStatus; chunks?: number; reason?: string }
  | { type: 'embed'; inputs: number };

export interface IngestSummary {
  kb: string;
  dryRun: boolean;
  added: number;
  changed: number;
  unchanged: number;
  deleted: number;
  skipped: number;
  failed: number;
  /** Chunks written by this run, and their tokens. */
  chunks: number;
  tokens: number;
  /** Chunks whose vector was computed by this run / taken from an identical chunk text already stored. */
  embeddedChunks: number;
  reusedChunks: number;
  embeddingRequests: number;
  seconds: number;
  failures: { path: string; reason: string }[];
}

/** The ingested folder does not exist or is not a folder: nothing can be done (CLI exit 1). */
export class IngestSourceError extends Error {
  override name = 'IngestSourceError';
}

/**
 * Throws unless `dir` is a folder. The CLI checks it before opening the database, so a mistyped path
 * creates no database file.
 *
 * @throws IngestSourceError naming the path
 */
export async function checkSourceFolder(dir: string): Promise<void> {
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat?.isDirectory()) throw new IngestSourceError(`no such folder: ${dir}`);
}

/**
 * Brings knowledge base `kb` in line with the folder `dir`: new files are added, changed ones re-chunked
 * (re-embedding only chunk texts not already stored), unchanged ones skipped after a size/mtime check
 * (then a content hash), and documents whose files are gone removed. Every document is written in its own
 * transaction, so an interrupted run leaves a consistent knowledge base and the next run carries on.
 *
 * A file that cannot be loaded is counted as failed with its reason and the run goes on. Errors of the
 * embedder (provider down, bad key) stop the run: every later file would fail the same way.
 *
 * @example
 * const summary = await ingestDirectory({ dir: './docs', kb: 'default', store, embedder });
 */
export async function ingestDirectory(options: IngestOptions): Promise<IngestSummary> {
  const started = performance.now();
  const { dir, store, embedder, dryRun = false } = options;
  const emit = options.onEvent ?? (() => {});
  const chunkOptions = { ...defaultChunkOptions, ...options.chunk };
  const summary: IngestSummary = {
    kb: options.kb,
    dryRun,
    added: 0,
    changed: 0,
    unchanged: 0,
    deleted: 0,
    skipped: 0,
    failed: 0,
    chunks: 0,
    tokens: 0,
    embeddedChunks: 0,
    reusedChunks: 0,
    embeddingRequests: 0,
    seconds: 0,
    failures: [],
  };
  const record = (path: string, status: FileStatus, extra: { chunks?: number; reason?: string } = {}) => {
    summary[status] += 1;
    if (status === 'failed') summary.failures.push({ path, reason: extra.reason ?? 'unknown error' });
    emit({ type: 'file', path, status, ...extra });
  };

  await checkSourceFolder(dir);
  const walk = await walkFiles(dir);
  const { files } = walk;

  const settings: KnowledgeBaseSettings = {
    chunkerVersion: CHUNKER_VERSION,
    chunkMaxTokens: chunkOptions.maxTokens,
    chunkOverlapTokens: chunkOptions.overlapTokens,
    chunkMinTokens: chunkOptions.minTokens,
  };
  // --rebuild fills a staging knowledge base and swaps it in at the end, so the old one keeps answering
  // meanwhile and survives a failed run (provider down, interrupted). A name too long for a staging
  // name beside it is rebuilt in place.
  const staging = options.rebuild && !dryRun ? stagingName(store, options.kb) : undefined;
  if (options.rebuild && !dryRun && !staging) store.deleteKnowledgeBase(options.kb);
  if (!options.rebuild && !dryRun) removeLeftoverStaging(store, options.kb);
  const name = staging ?? options.kb;
  let kb: KnowledgeBase | undefined = options.rebuild && dryRun ? undefined : store.getKnowledgeBase(name);
  const sameModel = kb?.embedder.provider === embedder.provider && kb.embedder.model === embedder.model;
  const info: EmbedderInfo = {
    provider: embedder.provider,
    model: embedder.model,
    // For a remote model of unknown length the stored length stands for the same model's: asking would
    // cost a probe request on every run, even one with nothing to embed (and fail with the provider
    // down). Vectors of another length are still refused when they arrive (`checkLength`).
    dimensions:
      embedder.knownDimensions() ?? (sameModel ? kb!.embedder.dimensions : await embedder.dimensions()),
  };
  if (kb && !sameModel && store.stats(kb.id).documents === 0) {
    // Empty (a first run that failed before writing anything): not bound to its embedder yet.
    if (!dryRun) store.deleteKnowledgeBase(name);
    kb = undefined;
  }
  if (kb) assertSameEmbedder(options.kb, kb.embedder, info);
  if (!kb && !dryRun) {
    kb = store.createKnowledgeBase(name, info, staging ? { ...settings, rebuildOf: options.kb } : settings);
  }
  const rechunkAll = !staging && kb !== undefined && !sameSettings(kb.settings, settings);
  const existing = new Map<string, DocumentRecord>(
    kb ? store.listDocuments(kb.id).map((d) => [d.path, d]) : [],
  );
  const checkLength = (vectors: readonly Float32Array[]) => {
    const length = vectors[0]?.length;
    if (length !== undefined && length !== info.dimensions) {
      const current = describeEmbedder({ ...info, dimensions: length });
      throw new EmbedderFailure(new EmbedderMismatchError(options.kb, describeEmbedder(info), current));
    }
  };

  emit({ type: 'start', files: files.length, kb: options.kb, dryRun });
  for (const { path, reason } of walk.skipped) record(path, 'skipped', { reason });
  for (const { path, reason } of walk.failed) record(path, 'failed', { reason });
  const useWorker =
    !dryRun &&
    (options.chunkWorker ??
      bytesToLoad(dir, files, existing, rechunkAll || options.rebuild === true) >= WORKER_MIN_BYTES);
  const chunker = new ChunkPool(useWorker);
  // With the worker, more documents in flight keep it fed while the main thread writes the ones before:
  // a document holds its slot from reading to writing, so with 4 slots the worker sat idle 1.8 s of 5.8
  // and the main thread 1.1 s on the generated corpus; 16 took that ingest from 5.1 s to 4.8 s (medians of
  // 3 runs each, interleaved).
  const onRequest = (inputs: number) => {
    summary.embeddingRequests += 1;
    emit({ type: 'embed', inputs });
  };
  // A remote embedder's requests carry the chunks of several documents (see EmbedBatcher); the more
  // documents in flight, the fuller they are.
  const batcher =
    embedder.portable || dryRun
      ? undefined
      : new EmbedBatcher(embedder, {
          batchSize: embedder.batchSize ?? 1,
          maxWaitMs: EMBED_WAIT_MS,
          onRequest,
        });
  const limit = pLimit(options.concurrency ?? (useWorker || batcher ? 16 : 4));
  const seen = new Set<string>();
  let fatal: unknown;

  await Promise.all(
    files.map((path) =>
      limit(async () => {
        if (fatal) return;
        const entry = loaderFor(path);
        if (!entry) return record(path, 'skipped', { reason: 'unsupported file type' });
        seen.add(path);
        const absolute = join(dir, path);
        const previous = existing.get(path);
        try {
          const fileStat = await stat(absolute);
          const sameStat =
            previous !== undefined &&
            previous.size === fileStat.size &&
            previous.mtimeMs === fileStat.mtimeMs;
          if (sameStat && !rechunkAll) return record(path, 'unchanged');
          const bytes = await readFile(absolute);
          const hash = sha256(bytes);
          if (previous?.hash === hash && !rechunkAll) {
            if (!dryRun && kb) store.touchDocument(kb.id, path, fileStat.size, fileStat.mtimeMs);
            return record(path, 'unchanged');
          }
          const status = previous ? 'changed' : 'added';
          if (dryRun || !kb) return record(path, status);
          if (bytes.length === 0) {
            // Emptied since the last run: its old text is no longer in the folder, so not in the knowledge base.
            if (previous) store.deleteDocument(kb.id, path);
            throw new Error('empty file');
          }

          const {
            title,
            metadata,
            drafts,
            vectors: prepared,
          } = await chunker.prepare(
            path,
            new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
            chunkOptions,
            embedder.portable,
          );
          if (drafts.length === 0) {
            // A page of layout only (front matter, components) is not a broken file: skip it, and drop any
            // earlier version of it that did have text.
            if (previous) store.deleteDocument(kb.id, path);
            return record(path, 'skipped', { reason: 'no text to index' });
          }

          const hashes = drafts.map((d) => sha256(d.embedText));
          const vectors = store.vectorsByTextHash(kb.id, hashes);
          const missing = new Map<string, string>();
          drafts.forEach((d, i) => {
            if (!vectors.has(hashes[i]!)) missing.set(hashes[i]!, d.embedText);
          });
          summary.reusedChunks += drafts.length - missing.size;
          if (missing.size > 0) {
            if (prepared && embedder.portable) {
              // The worker embedded every chunk with the same embedder: keep the vectors of the missing
              // ones, and report its batches as the embedder itself would have.
              checkLength(prepared);
              drafts.forEach((_, i) => {
                if (missing.has(hashes[i]!) && !vectors.has(hashes[i]!))
                  vectors.set(hashes[i]!, prepared[i]!);
              });
              const batch = embedder.portable.batchSize;
              for (let done = 0; done < missing.size; done += batch)
                onRequest(Math.min(batch, missing.size - done));
            } else {
              const texts = [...missing.values()];
              const embedded = await (
                batcher ? batcher.embed(texts) : embedder.embed(texts, { onRequest })
              ).catch((error: unknown) => {
                throw new EmbedderFailure(error);
              });
              checkLength(embedded);
              [...missing.keys()].forEach((h, i) => vectors.set(h, embedded[i]!));
            }
            summary.embeddedChunks += missing.size;
          }
          const chunks: NewChunk[] = drafts.map((d, i) => ({
            ordinal: d.ordinal,
            heading: d.heading,
            text: d.text,
            tokenCount: d.tokenCount,
            ...(d.page === undefined ? {} : { page: d.page }),
            textHash: hashes[i]!,
            vector: vectors.get(hashes[i]!)!,
          }));
          store.replaceDocument(
            kb.id,
            {
              path,
              title,
              hash,
              size: fileStat.size,
              mtimeMs: fileStat.mtimeMs,
              format: entry.format,
              metadata,
            },
            chunks,
          );
          summary.chunks += chunks.length;
          summary.tokens += chunks.reduce((n, c) => n + c.tokenCount, 0);
          record(path, status, { chunks: chunks.length });
        } catch (error) {
          if (error instanceof EmbedderFailure) {
            fatal ??= error.cause;
            return;
          }
          record(path, 'failed', { reason: error instanceof Error ? error.message : String(error) });
        }
      }),
    ),
  ).finally(() => chunker.close());
  if (fatal) {
    // A failed rebuild leaves the knowledge base it was to replace as it was.
    if (staging) store.deleteKnowledgeBase(staging);
    throw fatal;
  }

  // What lies under a folder that could not be listed is not known to be gone: it stays.
  const unlisted = (path: string) =>
    walk.failed.some((f) => path === f.path || path.startsWith(`${f.path}/`));
  for (const path of existing.keys()) {
    if (seen.has(path) || unlisted(path)) continue;
    if (!dryRun && kb) store.deleteDocument(kb.id, path);
    record(path, 'deleted');
  }
  if (staging) store.replaceKnowledgeBase(options.kb, staging, settings);
  if (kb && !dryRun && rechunkAll) store.updateKnowledgeBaseSettings(kb.id, settings);
  // Every run, changes or not: the store decides what is due (a knowledge base migrated with a drifted
  // full-text index gets it rebuilt on its next ingest), and an index already in shape costs ~0.1 ms.
  if (kb && !dryRun) store.optimize(kb.id);
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

/**
 * The knowledge base a `--rebuild` of `name` fills before swapping it in, or undefined when `name` is too
 * long to have one beside it. A staging knowledge base left by an interrupted rebuild is deleted; one that
 * a user created under that name is not touched.
 */
function stagingName(store: Store, name: string): string | undefined {
  const staging = `${name}.rebuild`;
  if (!KNOWLEDGE_BASE_NAME.test(staging)) return undefined;
  if (store.getKnowledgeBase(staging) && !removeLeftoverStaging(store, name)) {
    throw new IngestSourceError(
      `cannot rebuild "${name}": the knowledge base "${staging}" is in the way; rename or delete it first`,
    );
  }
  return staging;
}

/** Deletes what a killed `--rebuild` of `name` left; returns whether there was such a thing. */
function removeLeftoverStaging(store: Store, name: string): boolean {
  const leftover = store.getKnowledgeBase(`${name}.rebuild`);
  if (leftover?.settings.rebuildOf !== name) return false;
  store.deleteKnowledgeBase(leftover.name);
  return true;
}

/** Marks an error as the embedder's, which ends the run instead of failing one file. */
class EmbedderFailure extends Error {
  constructor(cause: unknown) {
    super('embedding failed', { cause });
  }
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function sameSettings(a: KnowledgeBaseSettings, b: KnowledgeBaseSettings): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}
