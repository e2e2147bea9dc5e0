/**
 * Context windows (tokens) of well-known chat models, matched by the longest prefix of the model name.
 * `CHAT_CONTEXT_WINDOW` overrides; unknown models get 8192, a size nearly every model today exceeds.
 */
const KNOWN: ReadonlyArray<readonly [prefix: string, tokens: number]> = (
  [
    ['gpt-4o-mini', 128_000],
    ['gpt-4o', 128_000],
    ['gpt-4.1', 1_047_576],
    ['gpt-4-turbo', 128_000],
    ['gpt-4-32k', 32_768],
    ['gpt-4', 8_192],
    ['gpt-3.5-turbo', 16_385],
    ['gpt-5', 400_000],
    ['o1-mini', 128_000],
    ['o1', 200_000],
    ['o3', 200_000],
    ['o4-mini', 200_000],
    ['deepseek-chat', 64_000],
    ['deepseek-reasoner', 64_000],
    ['qwen-turbo', 1_000_000],
    ['qwen-plus', 131_072],
    ['qwen-max', 32_768],
    ['qwen2.5', 32_768],
    ['qwen3', 32_768],
    ['glm-4', 128_000],
    ['moonshot-v1-8k', 8_192],
    ['moonshot-v1-32k', 32_768],
    ['moonshot-v1-128k', 131_072],
    ['llama3.1', 131_072],
    ['llama3', 8_192],
    ['mistral', 32_768],
  ] satisfies Array<[string, number]>
).sort((a, b) => b[0].length - a[0].length);

export const DEFAULT_CONTEXT_WINDOW = 8192;

/**
 * @example
 * contextWindowFor('gpt-4o-mini-2024-07-18') // 128000
 * contextWindowFor('my-local-model') // 8192
 */
export function contextWindowFor(model: string): number {
  const name = model.toLowerCase().replace(/^.*\//, '');
  return KNOWN.find(([prefix]) => name.startsWith(prefix))?.[1] ?? DEFAULT_CONTEXT_WINDOW;
}
