import type { Embedder } from '../src/embed/embedder.ts';

/**
 * Gathers the texts of several documents into the embedder's requests. A documentation folder is mostly
 * small files of a few chunks each: embedded one document at a time, `../shared/eval/docs` took 284
 * requests for 5,246 chunks, where 128 inputs a request would need 41. Against a provider that limits
 * requests per minute, or charges for each round trip in latency, that is the difference that matters.
 *
 * Texts wait until `batchSize` of them are queued or `maxWaitMs` has passed since the first one, then go
 * out in one `embed` call (which splits them into requests of the embedder's own batch size, at its own
 * concurrency). Each caller gets its own vectors back, in order; a failed call fails every caller in it.
 *
 * @example
 * const batcher = new EmbedBatcher(embedder, { batchSize: 128, maxWaitMs: 25, onRequest: (n) => {} });
 * const vectors = await batcher.embed(['chunk one', 'chunk two']);
 */
export class EmbedBatcher {
  readonly #embedder: Embedder;
  readonly #batchSize: number;
  readonly #maxWaitMs: number;
  readonly #onRequest: ((inputs: number) => void) | undefined;
  #queue: { texts: readonly string[]; resolve: (v: Float32Array[]) => void; reject: (e: unknown) => void }[] =
    [];
  #queued = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    embedder: Embedder,
    options: { batchSize: number; maxWaitMs: number; onRequest?: (inputs: number) => void },
  ) {
    this.#embedder = embedder;
    this.#batchSize = options.batchSize;
    this.#maxWaitMs = options.maxWaitMs;
    this.#onRequest = options.onRequest;
  }

  /** The vectors of `texts`, in order, embedded together with whatever other callers queue meanwhile. */
  embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#queue.push({ texts, resolve, reject });
      this.#queued += texts.length;
      if (this.#queued >= this.#batchSize) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#maxWaitMs);
    });
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const callers = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    const onRequest = this.#onRequest;
    this.#embedder
      .embed(
        callers.flatMap((c) => c.texts),
        onRequest ? { onRequest } : {},
      )
      .then(
        (vectors) => {
          let at = 0;
          for (const caller of callers) {
            caller.resolve(vectors.slice(at, at + caller.texts.length));
            at += caller.texts.length;
          }
        },
        (error: unknown) => {
          for (const caller of callers) caller.reject(error);
        },
      );
  }
}
