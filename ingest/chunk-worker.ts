/**
 * The chunk worker's side: prepares (loads, chunks and maybe embeds, prepare.ts) each file the main thread
 * posts and posts the result back. Started by chunk-pool.ts through chunk-worker.js, which makes TypeScript
 * importable in the worker first.
 */
import { parentPort } from 'node:worker_threads';
import type { PortableEmbedder } from '../src/embed/embedder.ts';
import type { ChunkOptions } from './chunk.ts';
import { prepareDocument, type PreparedDocument } from './prepare.ts';

/** A file to prepare (its bytes are copied: the main thread keeps them in case the worker dies). */
export interface PrepareRequest {
  id: number;
  path: string;
  bytes: Uint8Array;
  chunkOptions: ChunkOptions;
  embedder?: PortableEmbedder;
}

/** The prepared document, or the message of what the loader threw. */
export type PrepareReply =
  { id: number; ok: true; document: PreparedDocument } | { id: number; ok: false; error: string };

const port = parentPort;
if (port) {
  port.on('message', (request: PrepareRequest) => {
    prepareDocument(request.path, request.bytes, request.chunkOptions, request.embedder).then(
      (document) =>
        // The vectors' buffers are moved, not copied (1.5 KB a chunk at 384 dimensions); a buffer may be
        // listed once only.
        port.postMessage({ id: request.id, ok: true, document } satisfies PrepareReply, [
          ...new Set(document.vectors?.map((v) => v.buffer as ArrayBuffer)),
        ]),
      (error: unknown) =>
        port.postMessage({
          id: request.id,
          ok: false,
          error: error instanceof Error ? error.message : String(error),
        } satisfies PrepareReply),
    );
  });
  port.postMessage('ready');
}
