import { InvalidRequestError } from '../errors.ts';
import type { ChatMessage } from '../llm/chat.ts';
import type { HistoryMessage } from '../shared/protocol.ts';
import { headingBelowTitle } from '../shared/source-heading.ts';

/** The built-in knowledge-base system prompt (`SYSTEM_PROMPT` / `SYSTEM_PROMPT_FILE` replace it). */
export const DEFAULT_SYSTEM_PROMPT = [
  'You answer questions for the users of an internal knowledge base.',
  'Answer only from the numbered sources given with the question; do not use outside knowledge.',
  'Cite every statement with the number of the source it comes from, like [1] or [2][3]. Only cite numbers of sources you were given.',
  'If the sources do not contain the answer, say so plainly instead of guessing.',
  'Answer in the language of the question (for example, a question in Chinese gets an answer in Simplified Chinese).',
  'Be concise; use Markdown lists or code blocks where they help.',
].join('\n');

export interface PromptSource {
  /** 1-based number the model cites. */
  index: number;
  title: string;
  heading: string;
  text: string;
  page?: number | null;
}

export interface PromptInput {
  systemPrompt: string;
  question: string;
  /** Oldest first. */
  history: readonly HistoryMessage[];
  /** Best first: the last ones are dropped first when the budget is short. */
  sources: readonly PromptSource[];
  countTokens: (text: string) => number;
  contextWindow: number;
  /** Tokens reserved for the answer. */
  answerMaxTokens: number;
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  /** How many of the sources (a prefix of `input.sources`) are in the prompt. */
  sourceCount: number;
  /** How many of the history messages (the latest ones) are in the prompt. */
  historyCount: number;
  promptTokens: number;
}

/**
 * Chat formats add a few tokens per message (role and separators) and a few to prime the reply; these are
 * OpenAI's documented figures, and a safe over-estimate for other providers' templates.
 */
const TOKENS_PER_MESSAGE = 4;
const TOKENS_PER_REPLY = 3;

function sourceBlock(source: PromptSource): string {
  const where = [source.title, headingBelowTitle(source.title, source.heading).join(' > ')]
    .filter(Boolean)
    .join(' › ');
  const page = source.page ? ` (page ${source.page})` : '';
  return `[${source.index}] ${where}${page}\n${source.text.trim()}`;
}

function userMessage(question: string, blocks: readonly string[]): string {
  const sources = blocks.length > 0 ? blocks.join('\n\n') : '(no sources)';
  return `Sources:\n\n${sources}\n\nQuestion: ${question}`;
}

/**
 * Builds the messages for the chat model within the context window: prompt tokens + `answerMaxTokens` must
 * fit `contextWindow`. When they do not, the oldest history turns go first, then the lowest-ranked sources;
 * the system prompt and the question are never dropped. History kept always starts with a user turn.
 *
 * Tokens are counted once per message and per source, so a long history costs one pass.
 *
 * @throws InvalidRequestError when the system prompt and the question alone do not fit
 * @example
 * const { messages } = buildPrompt({ systemPrompt, question, history, sources, countTokens, contextWindow: 128000, answerMaxTokens: 800 });
 */
export function buildPrompt(input: PromptInput): BuiltPrompt {
  const budget = input.contextWindow - input.answerMaxTokens;
  const count = (text: string) => input.countTokens(text) + TOKENS_PER_MESSAGE;
  const blocks = input.sources.map(sourceBlock);
  // Joining blocks adds two newlines each; count them with the block so the sum stays an upper bound.
  const blockTokens = blocks.map((b) => input.countTokens(b) + 1);
  const historyTokens = input.history.map((m) => count(m.content));
  const fixed = TOKENS_PER_REPLY + count(input.systemPrompt) + count(userMessage(input.question, []));

  if (fixed > budget) {
    throw new InvalidRequestError(
      `the question is too long: with the system prompt it needs ${fixed} tokens, and the model's context ` +
        `window leaves ${Math.max(budget, 0)} after reserving ${input.answerMaxTokens} for the answer`,
    );
  }
  let sourceCount = blocks.length;
  let firstHistory = 0;
  let total = fixed + sum(blockTokens) + sum(historyTokens);
  const dropOldestTurn = () => {
    total -= historyTokens[firstHistory]!;
    firstHistory += 1;
  };
  while (total > budget && (firstHistory < historyTokens.length || sourceCount > 0)) {
    if (firstHistory < historyTokens.length) dropOldestTurn();
    else total -= blockTokens[--sourceCount]!;
  }
  // A history that starts with an assistant turn reads as if the model spoke first; drop that orphan too.
  while (firstHistory < input.history.length && input.history[firstHistory]!.role !== 'user')
    dropOldestTurn();

  const messages: ChatMessage[] = [
    { role: 'system', content: input.systemPrompt },
    ...input.history.slice(firstHistory).map((m) => ({ role: m.role, content: m.content })),
    { role: 'user', content: userMessage(input.question, blocks.slice(0, sourceCount)) },
  ];
  return {
    messages,
    sourceCount,
    historyCount: input.history.length - firstHistory,
    promptTokens: TOKENS_PER_REPLY + sum(messages.map((m) => count(m.content))),
  };
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
