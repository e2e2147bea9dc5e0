import type { ChatMessage, ChatModel } from '../llm/chat.ts';
import type { HistoryMessage, Usage } from '../shared/protocol.ts';

/**
 * The follow-up step before retrieval: "and how do I turn it off?" says nothing about what "it" is, so
 * searching with it alone finds the wrong passages. With history, the question becomes a standalone
 * search query: written by the chat model in one short call, or, without a model (or with
 * `QUERY_REWRITE=false`), the previous user question joined to the new one. Only retrieval sees the
 * query; the answer still sees the original question and the trimmed history.
 */

/** Instructions of the rewrite call; tests recognise the call by its first words. */
export const REWRITE_SYSTEM_PROMPT = [
  'Rewrite the last user question of a conversation as one standalone search query for a knowledge base.',
  'Resolve pronouns and references ("it", "that", "the second one") from the earlier turns.',
  'Keep the language of the question. Reply with the query only: no quotes, no explanation.',
].join('\n');

/** Latest history messages the rewrite sees: the thing discussed is almost always in the last turns. */
const REWRITE_HISTORY_MESSAGES = 6;
/** Longest part of one history message sent to the rewrite, in characters (long answers add little). */
const REWRITE_MESSAGE_CHARS = 1000;
/** A search query is short; a model that writes more has not followed the instructions. */
const REWRITE_MAX_TOKENS = 100;

export interface SearchQueryInput {
  question: string;
  history: readonly HistoryMessage[];
  /** The chat model of the answer, which also rewrites. */
  model: string;
  /** `QUERY_REWRITE`: ask the model (true) or join the questions (false). */
  rewrite: boolean;
  countTokens: (text: string) => number;
}

export interface SearchQuery {
  /** What retrieval searches with. */
  query: string;
  /** Tokens of the rewrite call (zeros when no call was made); added to the answer's usage. */
  usage: Usage;
}

const NO_USAGE: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

function clip(text: string): string {
  return text.length > REWRITE_MESSAGE_CHARS ? `${text.slice(0, REWRITE_MESSAGE_CHARS)}…` : text;
}

/** The previous user question and the new one, for lexical and vector search alike. */
function joinedQuery(question: string, history: readonly HistoryMessage[]): string {
  const previous = history.findLast((m) => m.role === 'user')?.content.trim();
  return previous ? `${previous}\n${question}` : question;
}

function rewriteMessages(question: string, history: readonly HistoryMessage[]): ChatMessage[] {
  const transcript = history
    .slice(-REWRITE_HISTORY_MESSAGES)
    .map((m) => `${m.role === 'user' ? 'User' : 'Assistant'}: ${clip(m.content)}`)
    .join('\n\n');
  return [
    { role: 'system', content: REWRITE_SYSTEM_PROMPT },
    { role: 'user', content: `Conversation:\n\n${transcript}\n\nLast user question: ${question}` },
  ];
}

/**
 * The query retrieval should search with. Without history it is the question itself and nothing is
 * called; with history and a chat model (and `rewrite`), one short model call writes it; otherwise the
 * previous user question joined to the new one. An empty rewrite falls back to the joined questions.
 *
 * @throws the chat model's Upstream* errors (a follow-up cannot be answered well without its query)
 * @example
 * const { query, usage } = await searchQueryFor(chat, { question: 'and how do I turn it off?', history, model: 'gpt-4o-mini', rewrite: true, countTokens });
 */
export async function searchQueryFor(
  chat: ChatModel | undefined,
  input: SearchQueryInput,
  signal?: AbortSignal,
): Promise<SearchQuery> {
  if (input.history.length === 0) return { query: input.question, usage: NO_USAGE };
  if (!chat || !input.rewrite) return { query: joinedQuery(input.question, input.history), usage: NO_USAGE };

  const messages = rewriteMessages(input.question, input.history);
  let text = '';
  let reported: { promptTokens: number; completionTokens: number } | undefined;
  // Nobody reads the rewritten query as it grows: ask for it in one piece.
  const request = {
    model: input.model,
    messages,
    maxTokens: REWRITE_MAX_TOKENS,
    temperature: 0,
    stream: false,
  };
  for await (const chunk of chat.stream(request, signal)) {
    if (chunk.text) text += chunk.text;
    if (chunk.usage) reported = chunk.usage;
  }
  const query = text.trim().replace(/^["'“「]+|["'”」]+$/g, '');
  // Providers that send no usage: our own count, as for answers.
  const promptTokens = reported?.promptTokens ?? input.countTokens(messages.map((m) => m.content).join('\n'));
  const completionTokens = reported?.completionTokens ?? input.countTokens(text);
  return {
    query: query || joinedQuery(input.question, input.history),
    usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
  };
}
