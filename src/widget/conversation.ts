import type { AskRequest } from '../shared/protocol.ts';
import type { Rating } from './feedback.ts';
import { historyOf, loadTurns, saveTurns, type KeyValueStorage, type Turn } from './storage.ts';
import { AskError, type StreamEvent } from './stream.ts';

/**
 * The conversation's state and rules, apart from any DOM: asking (one answer at a time), stopping,
 * retrying and starting over, with the turns saved after every change of state. The panel renders what
 * `onChange` reports.
 */

export interface ConversationDeps {
  /** Streams the events of one answer (`askStream` bound to the service's URL and key). */
  ask: (request: AskRequest, signal: AbortSignal) => AsyncIterable<StreamEvent>;
  kb: string;
  /** Sends a rating of an answer (`sendFeedback` bound to the service's URL and key); rejects on failure. */
  rate?: (answerId: string, rating: Rating) => Promise<void>;
  storage: KeyValueStorage | undefined;
  storageKey: string;
  /**
   * Called after every change: `changed` is the index of the one turn that changed (a streamed piece, a
   * new state), or undefined when the whole list changed (a turn added or removed).
   */
  onChange: (turns: readonly Turn[], changed: number | undefined) => void;
}

export interface Conversation {
  readonly turns: readonly Turn[];
  /** True while an answer is being received. */
  readonly busy: boolean;
  /** Asks `question` (trimmed; empty is ignored), stopping any answer still arriving; resolves when the answer ends. */
  ask(question: string): Promise<void>;
  /** Stops the answer being received; what arrived stays, marked stopped. */
  stop(): void;
  /** Asks the question of turn `index` again, in place of that turn. */
  retry(index: number): Promise<void>;
  /** Stops any answer and forgets the conversation, saved copy included. */
  reset(): void;
  /**
   * Rates the answer of turn `index` (thumbs up or down). Shown at once; taken back if the server refuses
   * it, so what the visitor sees is what was recorded.
   */
  rate(index: number, rating: Rating): Promise<void>;
}

function errorOf(error: unknown): { code: string; message: string } {
  if (error instanceof AskError) return { code: error.code, message: error.message };
  return { code: 'network', message: '' };
}

/**
 * A conversation restored from storage.
 *
 * @example
 * const conversation = createConversation({ ask: (request, signal) => askStream({ url, request, signal }),
 *   kb: 'hr', storage: localStorage, storageKey: storageKey(api, 'hr'), onChange: render });
 * await conversation.ask('How many days of leave do I get?');
 */
export function createConversation(deps: ConversationDeps): Conversation {
  let turns: Turn[] = loadTurns(deps.storage, deps.storageKey);
  let current: AbortController | undefined;

  const save = (): void => saveTurns(deps.storage, deps.storageKey, turns);
  const changed = (turn: Turn): void => {
    const index = turns.indexOf(turn);
    // A turn removed by `reset` or `retry` while its answer was arriving is no longer shown.
    if (index !== -1) deps.onChange(turns, index);
  };

  function apply(turn: Turn, event: StreamEvent): void {
    if (event.event === 'sources') turn.sources = event.data.sources;
    else if (event.event === 'delta') turn.answer += event.data.text;
    else if (event.event === 'done') {
      // The final text is authoritative: the server removes citation markers that name no source.
      turn.answer = event.data.answer;
      turn.sources = event.data.sources;
      turn.found = event.data.found;
      turn.answerId = event.data.id;
      turn.status = 'done';
    } else {
      turn.status = 'error';
      turn.error = { code: event.data.error.code, message: event.data.error.message };
    }
  }

  async function ask(text: string): Promise<void> {
    const question = text.trim();
    if (!question) return;
    current?.abort();
    const controller = new AbortController();
    current = controller;
    const history = historyOf(turns);
    const turn: Turn = { question, answer: '', sources: [], status: 'streaming' };
    turns.push(turn);
    save();
    deps.onChange(turns, undefined);
    try {
      for await (const event of deps.ask({ question, kb: deps.kb, history }, controller.signal)) {
        apply(turn, event);
        changed(turn);
      }
      if (turn.status === 'streaming') turn.status = 'done';
    } catch (error) {
      if (controller.signal.aborted) turn.status = 'stopped';
      else {
        turn.status = 'error';
        turn.error = errorOf(error);
      }
    } finally {
      if (current === controller) current = undefined;
      save();
      changed(turn);
    }
  }

  return {
    get turns() {
      return turns;
    },
    get busy() {
      return current !== undefined;
    },
    ask,
    stop() {
      current?.abort();
    },
    retry(index) {
      const turn = turns[index];
      if (!turn) return Promise.resolve();
      turns = turns.filter((t) => t !== turn);
      return ask(turn.question);
    },
    reset() {
      current?.abort();
      current = undefined;
      turns = [];
      save();
      deps.onChange(turns, undefined);
    },
    async rate(index, rating) {
      const turn = turns[index];
      if (!turn?.answerId || !deps.rate || turn.rating === rating) return;
      const before = turn.rating;
      turn.rating = rating;
      save();
      changed(turn);
      try {
        await deps.rate(turn.answerId, rating);
      } catch {
        if (turn.rating === rating) turn.rating = before;
        save();
        changed(turn);
      }
    },
  };
}
