/**
 * Where ingestDirectory loads, chunks and (with a portable embedder, such as the local one) embeds files:
 * on the main thread, or in one worker thread beside the main thread's SQLite writes (which must stay
 * there). On the generated 10 MB corpus the main thread spent 3.6 s writing and the rest (4.4 s) went to
 * loading, chunking and embedding, so moving that rest off it is what a second core can give.
 *
 * The worker is worth it only for large batches: it takes 0.5–1 s to start (tsx compiles the loaders,
 * chunker and embedder again in it, and its JIT starts cold), about what a 1 MB documentation folder takes
 * to ingest in all. Until it is ready, files are prepared on the main thread, so a slow start never holds
 * the ingest back.
 */
import { Worker } from 'node:worker_threads';
import type { PortableEmbedder } from '../src/embed/embedder.ts';
import type { ChunkOptions } from './chunk.ts';
import type { PrepareReply, PrepareRequest } from './chunk-worker.ts';
import { prepareDocument, type PreparedDocument } from './prepare.ts';

/**
 * Prepares files (prepare.ts) on the main thread, and in a worker when `useWorker`.
 *
 * @example
 * const pool = new ChunkPool(true);
 * try { const doc = await pool.prepare('guide.md', bytes, defaultChunkOptions); } finally { pool.close(); }
 */
export class ChunkPool {
  #worker: Worker | undefined;
  #ready = false;
  #started: Promise<boolean> = Promise.resolve(false);
  #settle: (ready: boolean) => void = () => {};
  #nextId = 0;
  readonly #pending = new Map<
    number,
    { request: PrepareRequest; resolve: (d: PreparedDocument) => void; reject: (e: Error) => void }
  >();

  constructor(useWorker: boolean) {
    if (!useWorker) return;
    this.#started = new Promise((resolve) => (this.#settle = resolve));
    const worker = new Worker(new URL('./chunk-worker.js', import.meta.url));
    // Never keep the process alive for the worker alone (a caller that forgets close()).
    worker.unref();
    worker.on('message', (message: 'ready' | PrepareReply) => {
      if (message === 'ready') {
        this.#ready = true;
        this.#settle(true);
        return;
      }
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.ok) pending.resolve(message.document);
      else pending.reject(new Error(message.error));
    });
    // A worker that cannot start or dies: prepare everything here, including what it was given.
    const fail = () => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#ready = false;
      this.#settle(false);
      for (const { request, resolve, reject } of this.#pending.values()) {
        prepareDocument(request.path, request.bytes, request.chunkOptions, request.embedder).then(
          resolve,
          reject,
        );
      }
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    this.#worker = worker;
  }

  /** Resolves true once the worker takes files, false if there is none (not asked for, failed, closed). */
  started(): Promise<boolean> {
    return this.#started;
  }

  /**
   * prepareDocument, in the worker once it is ready (embedding there too when given a portable embedder),
   * on this thread until then (never embedding: the caller embeds with its own embedder).
   */
  prepare(
    path: string,
    bytes: Uint8Array,
    chunkOptions: ChunkOptions,
    embedder?: PortableEmbedder,
  ): Promise<PreparedDocument> {
    const worker = this.#worker;
    // Once the worker is up it takes every file, however many wait for it: the main thread's writes keep
    // it busy enough. A first version that chunked here whenever two files were waiting for the worker
    // split the files half and half and gained nothing on the generated corpus (5.9 s either way).
    if (!worker || !this.#ready) {
      // Here the caller's own embedder embeds, as without a worker.
      return prepareDocument(path, bytes, chunkOptions);
    }
    const request: PrepareRequest = { id: this.#nextId++, path, bytes, chunkOptions };
    if (embedder) request.embedder = embedder;
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { request, resolve, reject });
      // Copied, not transferred: should the worker die, the bytes are still here to prepare again.
      worker.postMessage(request);
    });
  }

  /** Stops the worker; call when no prepare is pending. */
  close(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#settle(false);
    this.#started = Promise.resolve(false);
    void worker?.terminate();
  }
}
