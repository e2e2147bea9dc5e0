import { AppError } from '../errors.ts';
import type { AnswerEvent } from '../rag/answer.ts';
import type { AskRequest, ErrorBody, StreamEvents } from '../shared/protocol.ts';
import { readSse } from '../shared/sse-parse.ts';
import type { Asker, AskOptions, AskTurn } from './asker.ts';

export interface RemoteAskerOptions extends AskOptions {
  /** The service's base URL; `/ask` is resolved against it, so a path prefix is kept. */
  url: string;
  /** Sent as `Authorization: Bearer KEY`. */
  key?: string;
  /** Default the global `fetch`. */
  fetch?: typeof fetch;
}

/**
 * The request body. A conversation the server keeps is continued by its id alone (the server supplies
 * the history and refuses both); before the server has given one, the CLI's own history goes along.
 */
function requestBody(turn: AskTurn, options: RemoteAskerOptions): AskRequest {
  return {
    question: turn.question,
    kb: options.kb,
    ...(turn.conversationId === undefined
      ? { history: turn.history }
      : { conversationId: turn.conversationId }),
    stream: true,
    ...(options.model === undefined ? {} : { model: options.model }),
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
  };
}

/** The service's error body as an AppError, or a generic one when the body is not ours (a proxy's page). */
async function httpError(res: Response): Promise<AppError> {
  const text = await res.text();
  try {
    const { error } = JSON.parse(text) as ErrorBody;
    if (typeof error?.message === 'string') return new AppError(res.status, error.code, error.message);
  } catch {
    // Not JSON: fall through to the status line.
  }
  return new AppError(
    res.status,
    'http_error',
    `the service answered HTTP ${res.status} ${res.statusText}`.trim(),
  );
}

function parse<K extends keyof StreamEvents>(_event: K, data: string): StreamEvents[K] {
  return JSON.parse(data) as StreamEvents[K];
}

/**
 * Answers through a running service: `POST /ask` with `stream: true`, its server-sent events mapped back
 * to the events `answerQuestion` yields, so the CLI prints both alike. An `error` event is thrown as an
 * AppError carrying the service's code and message.
 *
 * @example
 * const asker = remoteAsker({ url: 'http://127.0.0.1:8787', key: 'kb_...', kb: 'default' });
 */
export function remoteAsker(options: RemoteAskerOptions): Asker {
  const doFetch = options.fetch ?? fetch;
  const base = options.url.endsWith('/') ? options.url : `${options.url}/`;
  const endpoint = new URL('ask', base).toString();

  async function* ask(turn: AskTurn, signal: AbortSignal): AsyncGenerator<AnswerEvent> {
    let res: Response;
    try {
      res = await doFetch(endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'text/event-stream',
          ...(options.key ? { Authorization: `Bearer ${options.key}` } : {}),
        },
        body: JSON.stringify(requestBody(turn, options)),
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new Error(`cannot reach ${endpoint}${cause}`, { cause: error });
    }
    if (!res.ok) throw await httpError(res);
    if (!res.body) throw new Error(`${endpoint} answered with an empty body`);
    for await (const message of readSse(res.body)) {
      if (message.event === 'sources')
        yield { type: 'sources', sources: parse('sources', message.data).sources };
      else if (message.event === 'delta') yield { type: 'delta', text: parse('delta', message.data).text };
      else if (message.event === 'done') {
        yield { type: 'done', response: parse('done', message.data) };
        return;
      } else if (message.event === 'error') {
        const { error } = parse('error', message.data);
        throw new AppError(502, error.code, error.message);
      }
    }
    throw new Error('the service closed the answer before it was done');
  }

  return { label: endpoint, ask, close: () => {} };
}
