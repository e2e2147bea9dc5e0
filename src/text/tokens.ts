/**
 * Token counting, the public API: o200k_base (the GPT-4o family's encoding) for chunking, and the
 * encoding of the configured model for chat budgeting.
 *
 * Behind it: encoding-counter.ts splits texts into pre-tokens and caches counts, bpe.ts merges each
 * pre-token over gpt-tokenizer's vocabularies (same tokens as gpt-tokenizer, several times faster), and
 * packed-table.ts holds the vocabulary for the merge loop. Nothing loads at import: a vocabulary loads on
 * its first count.
 */
import { encodingCounter, type EncodingName, type MeasuredText } from './encoding-counter.ts';

// Defined beside the code that builds it; callers of the public API import it from here.
export type { MeasuredText } from './encoding-counter.ts';

/**
 * Tokens in `text` under o200k_base, the encoding chunk sizes are measured in. Never throws.
 *
 * @example
 * countTokens('Hello, world!') // 4
 */
export function countTokens(text: string): number {
  return encodingCounter('o200k_base').count(text);
}

/**
 * `countTokens(text)`, plus what `countJoined` needs to count a text made of this one and others without
 * reading this one again. Same cost as countTokens.
 *
 * @example
 * const a = measureTokens('First sentence.');
 * countJoined([a, ' ', measureTokens('Second one.')]) === countTokens('First sentence. Second one.') // true
 */
export function measureTokens(text: string): MeasuredText {
  return encodingCounter('o200k_base').measure(text);
}

/**
 * Exactly `countTokens(parts.join(''))`, where measured parts are read only near their joins: building
 * chunks out of measured sentences costs little more than the joins. Plain strings are read in full.
 *
 * @example
 * countJoined(['Title\n\n', measureTokens('Body text.')]) // 5
 */
export function countJoined(parts: readonly (MeasuredText | string)[]): number {
  return encodingCounter('o200k_base').countJoined(parts);
}

/** Model-name prefixes of the o200k_base family, checked before the older `gpt-4` prefix. */
const O200K_MODELS = /^(gpt-4o|gpt-4\.1|gpt-4\.5|chatgpt-4o|gpt-5|gpt-oss|o1|o3|o4)/;
/** cl100k_base models; the embedding models are here because their input limits are counted in it. */
const CL100K_MODELS = /^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada-002)/;

function encodingFor(model: string): EncodingName {
  // Gateways prefix the vendor ("openai/gpt-4o"); only the last segment names the model.
  const name = model.toLowerCase().split('/').pop() ?? '';
  if (O200K_MODELS.test(name)) return 'o200k_base';
  if (CL100K_MODELS.test(name)) return 'cl100k_base';
  // Unknown (often non-OpenAI) models: o200k_base is a fair estimate for modern BPE vocabularies.
  return 'o200k_base';
}

const modelCounters = new Map<EncodingName, (text: string) => number>();

/**
 * Characters of whole texts whose counts a model counter remembers. Prompt budgeting counts the same
 * texts over and over (the system prompt every time, the passages of popular sections, a conversation's
 * earlier turns at each new turn), and counting a source block costs more than the rest of building the
 * prompt. Bounded by characters so that long texts cannot hold much memory (~4 MB); cleared when full.
 */
const MODEL_CACHE_CHARS = 2_000_000;

function rememberingCounts(count: (text: string) => number): (text: string) => number {
  let cache = new Map<string, number>();
  let chars = 0;
  return (text) => {
    const known = cache.get(text);
    if (known !== undefined) return known;
    const tokens = count(text);
    if (text.length <= MODEL_CACHE_CHARS / 100) {
      if (chars + text.length > MODEL_CACHE_CHARS) {
        cache = new Map();
        chars = 0;
      }
      cache.set(text, tokens);
      chars += text.length;
    }
    return tokens;
  };
}

/**
 * A token counter for a chat or embedding model, for budgeting prompts: o200k_base for gpt-4o*, gpt-4.1*,
 * gpt-5*, o1/o3/o4* and unknown models (an estimate there); cl100k_base for gpt-4*, gpt-3.5* and the
 * OpenAI embedding models. Counters are shared per encoding and remember the counts of recent texts; the
 * vocabulary loads on the first count.
 *
 * @example
 * const count = tokenCounterFor('gpt-4o-mini');
 * count('Hello, world!') // 4
 */
export function tokenCounterFor(model: string): (text: string) => number {
  const name = encodingFor(model);
  let count = modelCounters.get(name);
  if (!count) {
    count = rememberingCounts((text: string) => encodingCounter(name).count(text));
    modelCounters.set(name, count);
  }
  return count;
}

/**
 * The longest prefix of `text` holding at most `maxTokens` o200k_base tokens, cut at a token boundary
 * and never inside a character (a token that ends mid-character is dropped with the character).
 *
 * @example
 * truncateToTokens('Hello, world!', 2) // 'Hello,'
 */
export function truncateToTokens(text: string, maxTokens: number): string {
  if (maxTokens <= 0) return '';
  const counter = encodingCounter('o200k_base');
  let limit = maxTokens;
  for (;;) {
    const prefix = counter.prefixWithin(text, limit);
    // A prefix can tokenize differently on its own than inside the whole text (its last pre-token may
    // now end early); when that costs tokens, ask for fewer. Each round lowers the limit, so this ends.
    const over = counter.count(prefix) - maxTokens;
    if (over <= 0) return prefix;
    limit -= over;
    if (limit <= 0) return '';
  }
}
