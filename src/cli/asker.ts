import type { AnswerEvent } from '../rag/answer.ts';
import type { HistoryMessage } from '../shared/protocol.ts';

/**
 * What the `ask` CLI needs of an answerer, local or remote: one turn in, the answer's events out
 * (`sources`, `delta`s, `done`, as `answerQuestion` yields them). Errors are thrown; an aborted `signal`
 * stops the answer (and, remotely, closes the connection so the server cancels the model request).
 */
export interface Asker {
  /** Where answers come from, for the session banner: a database path or a URL. */
  readonly label: string;
  ask(turn: AskTurn, signal: AbortSignal): AsyncIterable<AnswerEvent>;
  close(): void;
}

/** One question of a conversation. */
export interface AskTurn {
  question: string;
  /** Earlier turns, oldest first; not sent to a server continuing `conversationId` (it keeps its own). */
  history: HistoryMessage[];
  /** The server's conversation to continue, when it returned one (remote only). */
  conversationId?: string;
}

/** The per-answer choices the CLI flags make; unset means the answerer's configured default. */
export interface AskOptions {
  kb: string;
  model?: string;
  temperature?: number;
}
