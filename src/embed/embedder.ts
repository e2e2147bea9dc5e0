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

export interface Embedder {
  readonly provider: string;
  readonly model: string;
  /** The vector length. May need one probe request for an unknown remote model; cached afterwards. */
  dimensions(): Promise<number>;
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
}

/** `openai/text-embedding-3-small (1536d)`: how an embedder is named in messages. */
export function describeEmbedder(info: EmbedderInfo): string {
  return `${info.provider}/${info.model} (${info.dimensions}d)`;
}
