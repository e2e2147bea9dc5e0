import { describe, expect, it } from 'vitest';
import type { AskResponse, HistoryMessage, StreamEvents } from '../src/shared/protocol.ts';
import { tokenCounterFor } from '../src/text/tokens.ts';
import {
  createTestApp,
  expectError,
  useKnowledgeBaseAndModel,
  parseEvents,
  postAsk,
  QUESTION,
} from './app-fixture.ts';
import { startFakeOpenAI } from './fake-openai.ts';

const ctx = useKnowledgeBaseAndModel();

function app(env: Record<string, string> = {}) {
  return createTestApp(ctx.kb, { chat: ctx.fake, env }).app;
}

type ChatMessage = { role: string; content: string };
const lastChatBody = () =>
  ctx.fake.requestsTo('chat').at(-1)!.body as { messages: ChatMessage[]; [k: string]: unknown };

describe('POST /ask answered by a chat model', () => {
  it('sends the system prompt, numbered sources and the question upstream, and returns cited JSON with usage', async () => {
    const res = await postAsk(app(), { question: QUESTION });
    expect(res.status).toBe(200);
    const body = (await res.json()) as AskResponse;
    expect(body).toMatchObject({ mode: 'llm', found: true, model: 'gpt-4o-mini', kb: 'default' });
    expect(body.answer).toBe('Copy data/kb.sqlite while the server is stopped [1].');
    expect(body.sources[0]).toMatchObject({ index: 1, path: 'backup.md', title: 'Backups' });
    expect(body.usage.promptTokens).toBeGreaterThan(0);
    expect(body.usage.completionTokens).toBeGreaterThan(0);
    expect(body.usage.totalTokens).toBe(body.usage.promptTokens + body.usage.completionTokens);

    const sent = lastChatBody();
    expect(sent.messages[0]!.role).toBe('system');
    expect(sent.messages[0]!.content).toMatch(/cite/i);
    const user = sent.messages.at(-1)!;
    expect(user.content).toContain('[1] Backups');
    expect(user.content.endsWith(`Question: ${QUESTION}`)).toBe(true);
    // A JSON answer is wanted whole: the provider is asked for one JSON response, not a stream.
    expect(sent).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 800, temperature: 0.2, stream: false });
    expect(sent.stream_options).toBeUndefined();
    expect(ctx.fake.requestsTo('chat')[0]!.headers.authorization).toBe('Bearer sk-test');
  });

  it('streams the model tokens as delta events as they arrive, then done', async () => {
    ctx.fake.setReply('One two three four five six seven eight nine ten [1].');
    const res = await postAsk(app(), { question: QUESTION, stream: true });
    const events = parseEvents(await res.text());
    const deltas = events.filter((e) => e.event === 'delta');
    expect(deltas.length).toBeGreaterThan(3);
    const done = JSON.parse(events.at(-1)!.data) as StreamEvents['done'];
    expect(events.at(-1)!.event).toBe('done');
    expect(deltas.map((d) => (JSON.parse(d.data) as StreamEvents['delta']).text).join('')).toBe(done.answer);
    expect(lastChatBody()).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(done.usage.completionTokens).toBeGreaterThan(0);
    ctx.fake.setReply('Copy data/kb.sqlite while the server is stopped [1].');
  });

  it('removes citation markers that name no source, in JSON and in the stream', async () => {
    const reply = 'Stop the server [1] then copy the file [7], see also [0] and [1, 9].';
    ctx.fake.setReply(reply);
    const json = (await (await postAsk(app(), { question: QUESTION })).json()) as AskResponse;
    const n = json.sources.length;
    expect(n).toBeLessThan(7);
    expect(json.answer).toBe('Stop the server [1] then copy the file, see also and [1].');
    const events = parseEvents(await (await postAsk(app(), { question: QUESTION, stream: true })).text());
    const streamed = events
      .filter((e) => e.event === 'delta')
      .map((e) => (JSON.parse(e.data) as StreamEvents['delta']).text)
      .join('');
    expect(streamed).toBe(json.answer);
    ctx.fake.setReply('Copy data/kb.sqlite while the server is stopped [1].');
  });

  it('an empty reply from the model is a 502 upstream_error, in JSON and in the stream, and is not cached', async () => {
    ctx.fake.setReply('');
    try {
      const cachedApp = app({ CACHE_TTL_SECONDS: '3600' });
      await expectError(await postAsk(cachedApp, { question: QUESTION }), 502, 'upstream_error');
      const events = parseEvents(
        await (await postAsk(cachedApp, { question: QUESTION, stream: true })).text(),
      );
      expect(events.map((e) => e.event)).toEqual(['sources', 'error']);
      expect(JSON.parse(events[1]!.data)).toMatchObject({
        error: { code: 'upstream_error', message: 'the chat model returned an empty answer' },
      });
      expect(ctx.fake.requestsTo('chat')).toHaveLength(2);
    } finally {
      ctx.fake.setReply('Copy data/kb.sqlite while the server is stopped [1].');
    }
  });

  it('a question with nothing relevant gets the not-found message in its language and calls no model', async () => {
    for (const [question, answer] of [
      ['What is the airspeed velocity of an unladen swallow?', "I couldn't find this in the knowledge base."],
      ['燕子的飞行速度是多少？', '知识库中没有找到相关内容。'],
    ] as const) {
      const body = (await (await postAsk(app(), { question })).json()) as AskResponse;
      expect(body).toMatchObject({ found: false, answer, sources: [], mode: 'llm' });
    }
    expect(ctx.fake.requestsTo('chat')).toHaveLength(0);
  });

  it('a 429 with Retry-After is retried after the wait, then answered', async () => {
    ctx.fake.enqueue('chat', { status: 429, retryAfter: 1 });
    const started = Date.now();
    const res = await postAsk(app({ LLM_MAX_RETRIES: '2' }), { question: QUESTION });
    expect(res.status).toBe(200);
    expect(ctx.fake.requestsTo('chat')).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('a provider that keeps answering 500 is a 502 upstream_error without the provider text', async () => {
    ctx.fake.enqueue('chat', {
      status: 500,
      retryAfterMs: 5,
      times: Infinity,
      message: 'db down at 10.0.0.7 key sk-live-123',
    });
    const res = await postAsk(app({ LLM_MAX_RETRIES: '2' }), { question: QUESTION });
    const error = await expectError(res, 502, 'upstream_error');
    expect(JSON.stringify(error)).not.toMatch(/10\.0\.0\.7|sk-live|db down/);
    expect(ctx.fake.requestsTo('chat')).toHaveLength(3);
  });

  it('a provider that keeps rate limiting is a 503 upstream_unavailable', async () => {
    ctx.fake.enqueue('chat', { status: 429, retryAfterMs: 5, times: Infinity });
    await expectError(
      await postAsk(app({ LLM_MAX_RETRIES: '1' }), { question: QUESTION }),
      503,
      'upstream_unavailable',
    );
  });

  it('a hanging provider is a 504 upstream_timeout within LLM_TIMEOUT_MS, retries included', async () => {
    ctx.fake.enqueue('chat', { hang: true, times: Infinity });
    const started = Date.now();
    const res = await postAsk(app({ LLM_TIMEOUT_MS: '400', LLM_MAX_RETRIES: '2' }), { question: QUESTION });
    await expectError(res, 504, 'upstream_timeout');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a stream that stalls mid-answer ends with an upstream_timeout error event, and the cut-off answer is not cached', async () => {
    ctx.fake.enqueue('chat', { hangAfterChunks: 2 });
    const cachedApp = app({ LLM_TIMEOUT_MS: '400', CACHE_TTL_SECONDS: '3600' });
    const events = parseEvents(await (await postAsk(cachedApp, { question: QUESTION, stream: true })).text());
    expect(events.map((e) => e.event)).toEqual(['sources', 'delta', 'delta', 'error']);
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ error: { code: 'upstream_timeout' } });

    // Asked again, the question goes to the model: nothing of the cut-off answer was kept.
    const again = (await (await postAsk(cachedApp, { question: QUESTION })).json()) as AskResponse;
    expect(again.answer).toBe('Copy data/kb.sqlite while the server is stopped [1].');
    expect(again.cached).toBe(false);
    expect(ctx.fake.requestsTo('chat')).toHaveLength(2);
  });

  it('a 100-turn history is trimmed so the upstream request fits the window and keeps the latest turns', async () => {
    const history: HistoryMessage[] = Array.from({ length: 100 }, (_, i) => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `turn ${i}: ${'we talked about backups and restores at length. '.repeat(12)}`,
    }));
    const res = await postAsk(app({ CHAT_CONTEXT_WINDOW: '4096', ANSWER_MAX_TOKENS: '500' }), {
      question: QUESTION,
      history,
    });
    expect(res.status).toBe(200);
    const sent = lastChatBody().messages;
    const count = tokenCounterFor('gpt-4o-mini');
    const tokens = sent.reduce((n, m) => n + count(m.content) + 4, 3);
    expect(tokens + 500).toBeLessThanOrEqual(4096);
    const kept = sent.slice(1, -1);
    expect(kept.length).toBeGreaterThan(2);
    expect(kept.length).toBeLessThan(100);
    expect(kept.at(-1)!.content).toBe(history[99]!.content);
    expect(kept[0]!.role).toBe('user');
    expect(sent.at(-1)!.content.endsWith(`Question: ${QUESTION}`)).toBe(true);
  });

  it('a question too long for the context window on its own is a 400', async () => {
    const question = `${'backup '.repeat(900)}?`;
    await expectError(
      await postAsk(app({ CHAT_CONTEXT_WINDOW: '1024', ANSWER_MAX_TOKENS: '500' }), { question }),
      400,
      'invalid_request',
    );
    expect(ctx.fake.requestsTo('chat')).toHaveLength(0);
  });

  it('a request may lower the temperature and pick an allowed model, and no other', async () => {
    const allowed = app({ ALLOWED_MODELS: 'gpt-4.1-mini' });
    const res = await postAsk(allowed, { question: QUESTION, model: 'gpt-4.1-mini', temperature: 0 });
    expect(((await res.json()) as AskResponse).model).toBe('gpt-4.1-mini');
    expect(lastChatBody()).toMatchObject({ model: 'gpt-4.1-mini', temperature: 0 });
    const refused = await postAsk(allowed, { question: QUESTION, model: 'o3-pro' });
    const error = await expectError(refused, 400, 'invalid_request');
    expect(error.message).toMatch(/o3-pro/);
    await expectError(await postAsk(allowed, { question: QUESTION, temperature: 3 }), 400, 'invalid_request');
  });

  it('LLM_CONCURRENCY bounds the upstream calls in flight; the rest wait their turn', async () => {
    const slow = await startFakeOpenAI({ reply: 'Stopped server, copied file [1].', latencyMs: 150 });
    try {
      const limited = createTestApp(ctx.kb, { chat: slow, env: { LLM_CONCURRENCY: '2' } }).app;
      const results = await Promise.all(
        Array.from({ length: 6 }, async () => (await postAsk(limited, { question: QUESTION })).status),
      );
      expect(results).toEqual([200, 200, 200, 200, 200, 200]);
      expect(slow.maxInFlight('chat')).toBe(2);
    } finally {
      await slow.close();
    }
  });
});
