/**
 * The pure half of the fake OpenAI server (test/fake-openai.ts): what it answers, as plain values.
 * Embeddings are hashed bags of words (deterministic, and texts sharing words land close together, so
 * retrieval tests through the fake behave plausibly); chat replies are split into stream chunks the way
 * a model streams tokens, citations like `[1]` sometimes split across chunks just as a real model does.
 */

/** Native vector lengths of OpenAI's embedding models; any other model gets the fake's default. */
export const NATIVE_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/** The OpenAI API's limit on inputs per embeddings request. */
export const MAX_EMBEDDING_INPUTS = 2048;

function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A deterministic unit vector for `text`: each lower-cased word (each CJK character) adds ±1 to a
 * hashed coordinate; text without words gets a vector seeded by its whole content.
 *
 * @example
 * fakeEmbedding('hello world', 8).length // 8
 */
export function fakeEmbedding(text: string, dimensions: number): Float32Array {
  const vector = new Float64Array(dimensions);
  const words = text.toLowerCase().match(/\p{Script=Han}|[\p{L}\p{N}]+/gu) ?? [];
  for (const word of words) {
    const h = fnv1a(word);
    vector[h % dimensions]! += h & 0x80000000 ? -1 : 1;
  }
  if (words.length === 0) {
    let h = fnv1a(text, 0x2f6b1d3);
    for (let i = 0; i < dimensions; i++) {
      h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
      vector[i] = (h / 0xffffffff) * 2 - 1;
    }
  }
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  return Float32Array.from(vector, (x) => x / norm);
}

/** Little-endian float32 bytes in base64: what the API returns for `encoding_format: 'base64'`. */
export function toBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

/** A rough token count (4 characters a token) for the `usage` fields. */
export function roughTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * The streamed pieces of a reply: words with their trailing space, words longer than `maxChars` code
 * points (and unspaced CJK text) cut every `maxChars` code points.
 *
 * @example
 * splitReply('Hello there [1].', 8) // ['Hello ', 'there ', '[1].']
 */
export function splitReply(text: string, maxChars: number): string[] {
  return text.match(new RegExp(`\\s+|[^\\s]{1,${maxChars}}\\s*`, 'gu')) ?? [];
}

/** An OpenAI error body: `{ error: { message, type, param, code } }`, typed and coded like the real API. */
export function errorBody(status: number, message?: string): { error: Record<string, unknown> } {
  const [type, code] =
    status === 401
      ? ['invalid_request_error', 'invalid_api_key']
      : status === 429
        ? ['requests', 'rate_limit_exceeded']
        : status >= 500
          ? ['server_error', null]
          : ['invalid_request_error', null];
  return {
    error: {
      message: message ?? `fake provider error ${status}: do-not-leak-provider-text`,
      type,
      param: null,
      code,
    },
  };
}

/** The text of every message, for usage counts and reply functions. */
export function messagesText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  return messages
    .map((m: { content?: unknown }) =>
      typeof m?.content === 'string'
        ? m.content
        : Array.isArray(m?.content)
          ? m.content.map((p: { text?: unknown }) => String(p?.text ?? '')).join('')
          : '',
    )
    .join('\n');
}

/** The content of the last `user` message, or '' (what an echo reply answers). */
export function lastUserMessage(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  const last = messages.filter((m: { role?: unknown }) => m?.role === 'user').at(-1);
  return messagesText(last === undefined ? [] : [last]);
}
