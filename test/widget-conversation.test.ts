import { describe, expect, it } from 'vitest';
import type { AskRequest, AskResponse } from '../src/shared/protocol.ts';
import { createConversation } from '../src/widget/conversation.ts';
import { MAX_TURNS, loadTurns, storageKey, type KeyValueStorage, type Turn } from '../src/widget/storage.ts';
import { AskError, type StreamEvent } from '../src/widget/stream.ts';

/** The widget's conversation rules, without a DOM: history, persistence, stop, errors and retry. */

function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

function done(answer: string, found = true): AskResponse {
  return {
    id: 'r',
    answer,
    sources: [],
    found,
    mode: 'llm',
    usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
    model: 'm',
    kb: 'hr',
  };
}

const KEY = storageKey('https://kb.example/', 'hr');

/** A conversation whose answers come from `answer(request, signal)`, recording requests and changes. */
function setup(
  answer: (request: AskRequest, signal: AbortSignal) => AsyncIterable<StreamEvent>,
  storage: KeyValueStorage = memoryStorage(),
) {
  const requests: AskRequest[] = [];
  const changes: (number | undefined)[] = [];
  const conversation = createConversation({
    ask: (request, signal) => {
      requests.push(request);
      return answer(request, signal);
    },
    kb: 'hr',
    storage,
    storageKey: KEY,
    onChange: (_turns, changed) => changes.push(changed),
  });
  return { conversation, requests, changes };
}

async function* replies(...events: StreamEvent[]): AsyncGenerator<StreamEvent> {
  for (const event of events) yield event;
}

describe('conversation', () => {
  it('streams an answer into its turn, then sends the finished turns as history with the next question', async () => {
    const { conversation, requests, changes } = setup((request) =>
      replies(
        { event: 'delta', data: { text: 'Fif' } },
        { event: 'delta', data: { text: 'teen' } },
        { event: 'done', data: done(`Answer to ${request.question}`) },
      ),
    );
    await conversation.ask('  How many days?  ');
    expect(conversation.turns[0]).toMatchObject({
      question: 'How many days?',
      answer: 'Answer to How many days?',
      found: true,
      status: 'done',
    });
    expect(changes).toEqual([undefined, 0, 0, 0, 0]);
    await conversation.ask('And in Shanghai?');
    expect(requests[1]).toEqual({
      question: 'And in Shanghai?',
      kb: 'hr',
      history: [
        { role: 'user', content: 'How many days?' },
        { role: 'assistant', content: 'Answer to How many days?' },
      ],
    });
  });

  it('ignores empty questions', async () => {
    const { conversation, requests } = setup(() => replies());
    await conversation.ask('   ');
    expect(requests).toEqual([]);
    expect(conversation.turns).toEqual([]);
  });

  it('keeps what arrived when stopped, marks the turn stopped and leaves it out of the history', async () => {
    const { conversation, requests } = setup((request, signal) =>
      request.question === 'first'
        ? (async function* () {
            yield { event: 'delta', data: { text: 'partial' } } as StreamEvent;
            await new Promise((_, reject) =>
              signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
            );
          })()
        : replies({ event: 'done', data: done('ok') }),
    );
    const first = conversation.ask('first');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(conversation.busy).toBe(true);
    conversation.stop();
    await first;
    expect(conversation.busy).toBe(false);
    expect(conversation.turns[0]).toMatchObject({ answer: 'partial', status: 'stopped' });
    await conversation.ask('second');
    expect(requests[1]!.history).toEqual([]);
  });

  it('records an error event and a failed request, and retry replaces the failed turn', async () => {
    let calls = 0;
    const { conversation } = setup(() => {
      calls += 1;
      if (calls === 1) {
        return replies({
          event: 'error',
          data: { error: { code: 'upstream_unavailable', message: 'busy', requestId: 'r' } },
        });
      }
      if (calls === 2) {
        return (async function* () {
          throw new AskError(404, 'not_found', 'no knowledge base "hr"');
        })();
      }
      return replies({ event: 'done', data: done('finally') });
    });
    await conversation.ask('q');
    expect(conversation.turns[0]).toMatchObject({ status: 'error', error: { code: 'upstream_unavailable' } });
    await conversation.retry(0);
    expect(conversation.turns).toHaveLength(1);
    expect(conversation.turns[0]).toMatchObject({
      status: 'error',
      error: { code: 'not_found', message: 'no knowledge base "hr"' },
    });
    await conversation.retry(0);
    expect(conversation.turns).toEqual([
      { question: 'q', answer: 'finally', sources: [], found: true, answerId: 'r', status: 'done' },
    ]);
  });

  it('is saved after each answer, restored by a new conversation, and forgotten by reset', async () => {
    const storage = memoryStorage();
    const first = setup(() => replies({ event: 'done', data: done('saved') }), storage);
    await first.conversation.ask('q');
    const second = setup(() => replies(), storage);
    expect(second.conversation.turns).toEqual(first.conversation.turns);
    second.conversation.reset();
    expect(second.conversation.turns).toEqual([]);
    expect(storage.data.has(KEY)).toBe(false);
  });
});

describe('saved turns', () => {
  it('marks an answer cut off by a reload as stopped, and reads garbage as no conversation', () => {
    const storage = memoryStorage();
    const turn: Turn = { question: 'q', answer: 'par', sources: [], status: 'streaming' };
    storage.setItem(KEY, JSON.stringify([turn, { nonsense: true }]));
    expect(loadTurns(storage, KEY)).toEqual([{ ...turn, status: 'stopped' }]);
    storage.setItem(KEY, '{not json');
    expect(loadTurns(storage, KEY)).toEqual([]);
    expect(loadTurns(undefined, KEY)).toEqual([]);
  });

  it(`keeps the last ${MAX_TURNS} turns, and survives storage that refuses writes`, async () => {
    const storage = memoryStorage();
    const { conversation } = setup(() => replies({ event: 'done', data: done('a') }), storage);
    for (let i = 0; i < MAX_TURNS + 5; i++) await conversation.ask(`q${i}`);
    const saved = loadTurns(storage, KEY);
    expect(saved).toHaveLength(MAX_TURNS);
    expect(saved[0]!.question).toBe('q5');

    const refusing: KeyValueStorage = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
      removeItem: () => {},
    };
    const other = setup(() => replies({ event: 'done', data: done('b') }), refusing);
    await other.conversation.ask('q');
    expect(other.conversation.turns[0]!.status).toBe('done');
  });

  it('keys conversations by service and knowledge base', () => {
    expect(storageKey('https://kb.example/', 'hr')).not.toBe(storageKey('https://kb.example/', 'it'));
    expect(storageKey('https://a.example/', 'hr')).not.toBe(storageKey('https://b.example/', 'hr'));
  });
});

describe('rating answers', () => {
  function rated(
    rate: (answerId: string, rating: 'up' | 'down') => Promise<void>,
    storage = memoryStorage(),
  ) {
    const sent: string[] = [];
    const conversation = createConversation({
      ask: () => replies({ event: 'done', data: { ...done('Fifteen days [1].'), id: 'answer-1' } }),
      kb: 'hr',
      rate: (answerId, rating) => {
        sent.push(`${answerId} ${rating}`);
        return rate(answerId, rating);
      },
      storage,
      storageKey: KEY,
      onChange: () => {},
    });
    return { conversation, sent, storage };
  }

  it('sends the rating with the answer id from done, and keeps it with the saved turn', async () => {
    const { conversation, sent, storage } = rated(async () => {});
    await conversation.ask('How many days?');
    expect(conversation.turns[0]!.answerId).toBe('answer-1');
    await conversation.rate(0, 'down');
    await conversation.rate(0, 'down');
    await conversation.rate(0, 'up');
    expect(sent).toEqual(['answer-1 down', 'answer-1 up']);
    expect(loadTurns(storage, KEY)[0]!.rating).toBe('up');
  });

  it('takes a rating back when the server refuses it', async () => {
    const { conversation } = rated(() => Promise.reject(new Error('403')));
    await conversation.ask('How many days?');
    await conversation.rate(0, 'up');
    expect(conversation.turns[0]!.rating).toBeUndefined();
  });
});
