import type { HistoryMessage, Source } from '../shared/protocol.ts';

/**
 * The conversation as the widget keeps it: a list of turns (a question and its answer), saved in the host
 * page's `localStorage` under one key per service and knowledge base, so it survives a reload and two
 * knowledge bases on one site never mix.
 */

/** `streaming` only while an answer arrives; a turn read back in that state was cut off by a reload. */
export type TurnStatus = 'streaming' | 'done' | 'stopped' | 'error';

export interface Turn {
  question: string;
  /** Markdown, as received so far. */
  answer: string;
  sources: Source[];
  /** False for a not-found answer; undefined until `done`. */
  found?: boolean;
  status: TurnStatus;
  /** Set when `status` is `error`: the protocol's error code and the server's message, if any. */
  error?: { code: string; message: string };
  /** The answer's `id` (from `done`), which `POST /feedback` names. */
  answerId?: string;
  /** The visitor's thumbs up or down on this answer, once given. */
  rating?: 'up' | 'down';
}

/** Turns kept; older ones are dropped (the server trims history to its token budget anyway). */
export const MAX_TURNS = 30;
const VERSION = 1;

/** A store that may be missing or refuse writes (private browsing, quota, storage disabled by policy). */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * The storage key of a conversation.
 *
 * @example
 * storageKey('https://kb.example/', 'hr'); // 'kb-answers:v1:https://kb.example/:hr'
 */
export function storageKey(api: string, kb: string): string {
  return `kb-answers:v${VERSION}:${api}:${kb}`;
}

function isTurn(value: unknown): value is Turn {
  const t = value as Partial<Turn> | null;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.question === 'string' &&
    typeof t.answer === 'string' &&
    Array.isArray(t.sources) &&
    typeof t.status === 'string'
  );
}

/**
 * The saved turns, oldest first; an answer that was still streaming when the page went away is marked
 * `stopped`. Anything unreadable counts as no conversation.
 *
 * @example
 * const turns = loadTurns(window.localStorage, storageKey(api, 'hr'));
 */
export function loadTurns(storage: KeyValueStorage | undefined, key: string): Turn[] {
  try {
    const raw = storage?.getItem(key);
    const parsed: unknown = raw ? JSON.parse(raw) : [];
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(isTurn).map((t) => (t.status === 'streaming' ? { ...t, status: 'stopped' } : t));
  } catch {
    return [];
  }
}

/**
 * Saves the last `MAX_TURNS` turns; an empty list removes the key. Failures are ignored: the
 * conversation then lasts as long as the page.
 *
 * @example
 * saveTurns(window.localStorage, key, turns);
 */
export function saveTurns(storage: KeyValueStorage | undefined, key: string, turns: readonly Turn[]): void {
  try {
    if (turns.length === 0) storage?.removeItem(key);
    else storage?.setItem(key, JSON.stringify(turns.slice(-MAX_TURNS)));
  } catch {
    // Quota or policy: keep the conversation in memory only.
  }
}

/**
 * The `history` of the next question: the completed turns, as user and assistant messages, oldest first.
 * Unfinished or failed answers are left out; the server would otherwise build on half an answer.
 *
 * @example
 * historyOf([{ question: 'Hi?', answer: 'Hello [1]', sources: [], found: true, status: 'done' }]);
 * // [{ role: 'user', content: 'Hi?' }, { role: 'assistant', content: 'Hello [1]' }]
 */
export function historyOf(turns: readonly Turn[]): HistoryMessage[] {
  return turns
    .filter((t) => t.status === 'done')
    .flatMap((t): HistoryMessage[] => [
      { role: 'user', content: t.question },
      { role: 'assistant', content: t.answer },
    ]);
}
