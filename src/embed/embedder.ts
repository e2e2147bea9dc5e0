/**
 * What every embedder provides. Vectors are L2-normalised Float32Arrays of `dimensions()` length, one per
 * input text, in input order.
 */
export interface EmbedderInfo {
  /** `openai` or `local`. */
  provider: string;
  /** The model name, e.g. `text-embedding-3-small`, or the local embedder's versioned scheme name. */
  model: string;
  dimensions: number;
}

export interface EmbedOptions {
  signal?: AbortSignal;
  /** Called once per upstream request (or local batch) with the number of inputs in it. */
  onRequest?: (inputs: number) => void;
}

/**
 * An embedder that is pure computation, described so that another thread can build the same one: the
 * ingest's chunk worker then embeds each document beside chunking it, off the main thread.
 *
 * @example
 * const portable: PortableEmbedder = { kind: 'local', dimensions: 384, batchSize: 64 };
 */
export interface PortableEmbedder {
  kind: 'local';
  dimensions: number;
  /** Inputs per `onRequest` call of the original, so that work done elsewhere is reported alike. */
  batchSize: number;
}

export interface Embedder {
  readonly provider: string;
  readonly model: string;
  /**
   * Set when the same embedder can be rebuilt in a worker thread (no connection, no state). It must
   * describe exactly what `embed` computes: a wrapper that changes `embed` must leave it out.
   */
  readonly portable?: PortableEmbedder;
  /** Inputs one request carries, for callers that gather inputs from several places (remote embedders). */
  readonly batchSize?: number;
  /** The vector length. May need one probe request for an unknown remote model; cached afterwards. */
  dimensions(): Promise<number>;
  /**
   * The vector length if it is known without a request (always for the local embedder; for a remote model
   * once configured, listed or learnt from a response), else undefined.
   */
  knownDimensions(): number | undefined;
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
}

/** `openai/text-embedding-3-small (1536d)`: how an embedder is named in messages. */
export function describeEmbedder(info: EmbedderInfo): string {
  return `${info.provider}/${info.model} (${info.dimensions}d)`;
}
