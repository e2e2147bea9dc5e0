import { InvalidRequestError, NotFoundError } from '../errors.ts';
import type { HistoryMessage } from '../shared/protocol.ts';
import type {
  Conversation,
  ConversationStore,
  ConversationWithMessages,
  NewConversationMessage,
} from '../store/conversations.ts';
import type { AnswerEvent, AnswerInput, AnswerOptions } from './answer.ts';
import type { Answerer } from './answerer.ts';

/**
 * Answers one turn of a server-side conversation: the history comes from the store, the turn is stored
 * once the answer is complete, and the `done` response carries the `conversationId`. A failed or
 * cancelled answer stores nothing (and a new conversation is only created when its first turn is done),
 * so the stored history never holds a question without its answer.
 */

export interface ConversationTurn extends Omit<AnswerInput, 'history'> {
  /** Continue this conversation; absent: start one. */
  conversationId: string | undefined;
  /** History sent by the client; only allowed when starting a conversation. */
  history: HistoryMessage[];
  /** The API key asking (null when the service runs open); only it may continue its conversations. */
  owner: string | null;
}

/**
 * The conversation `id` if `owner` may use it. Another key's conversation is "not found", not "forbidden",
 * so ids cannot be probed.
 *
 * @throws NotFoundError for an unknown id, a deleted (expired) conversation or another owner's
 * @example
 * const conversation = findOwnConversation(conversations, id, null);
 */
export function findOwnConversation(
  conversations: ConversationStore,
  id: string,
  owner: string | null,
): ConversationWithMessages {
  const conversation = conversations.get(id);
  if (!conversation || conversation.owner !== owner)
    throw new NotFoundError(`conversation "${id}" not found`);
  return conversation;
}

function historyOf(conversation: ConversationWithMessages): HistoryMessage[] {
  return conversation.messages.map((m) => ({ role: m.role, content: m.content }));
}

/**
 * `answer` within a conversation: the same events, with `conversationId` on the `done` response.
 * The stored history is trimmed to the token budget by the prompt like any history.
 *
 * @throws NotFoundError for a conversation that is unknown or not the owner's, InvalidRequestError when
 *   `history` is sent with a `conversationId` or the conversation belongs to another knowledge base, and
 *   everything `answerQuestion` throws
 * @example
 * const answer: Answerer = (input, options) => answerQuestion(deps, input, options);
 * for await (const event of answerInConversation(answer, conversations, { ...input, conversationId, owner: null })) {}
 */
export async function* answerInConversation(
  answer: Answerer,
  conversations: ConversationStore,
  turn: ConversationTurn,
  options: AnswerOptions = {},
): AsyncGenerator<AnswerEvent> {
  const { conversationId, owner, ...input } = turn;
  let existing: Conversation | undefined;
  let history = turn.history;
  if (conversationId !== undefined) {
    if (turn.history.length > 0) {
      throw new InvalidRequestError('history: must not be sent with conversationId (the server keeps it)');
    }
    const conversation = findOwnConversation(conversations, conversationId, owner);
    if (conversation.kb !== turn.kb) {
      throw new InvalidRequestError(
        `kb: conversation "${conversationId}" is about knowledge base "${conversation.kb}"`,
      );
    }
    existing = conversation;
    history = historyOf(conversation);
  }
  for await (const event of answer({ ...input, history }, options)) {
    if (event.type !== 'done') {
      yield event;
      continue;
    }
    const messages: NewConversationMessage[] = [
      { role: 'user', content: input.question },
      { role: 'assistant', content: event.response.answer, sources: event.response.sources },
    ];
    let conversation = existing;
    if (conversation) conversations.appendMessages(conversation.id, messages);
    // A conversation started from client history (the widget's) keeps it, so continuing sees the same.
    else conversation = conversations.create(event.response.kb, owner, [...turn.history, ...messages]);
    yield { type: 'done', response: { ...event.response, conversationId: conversation.id } };
  }
}

/**
 * `answer` bound to one conversation turn, in `answer`'s own shape, so a route can hand it to code that
 * expects an answerer.
 *
 * @example
 * const turnAnswer = inConversation(answer, conversations, { conversationId: undefined, owner: null });
 */
export function inConversation(
  answer: Answerer,
  conversations: ConversationStore,
  turn: Pick<ConversationTurn, 'conversationId' | 'owner'>,
): Answerer {
  return (input, options) => answerInConversation(answer, conversations, { ...input, ...turn }, options);
}
