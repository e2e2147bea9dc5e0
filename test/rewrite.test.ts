import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REWRITE_SYSTEM_PROMPT } from '../src/rag/rewrite.ts';
import type { AskResponse } from '../src/shared/protocol.ts';
import { createTestApp, openTestKnowledgeBase, postAsk, type TestKnowledgeBase } from './app-fixture.ts';
import { startFakeOpenAI, type FakeChatRequest, type FakeOpenAI } from './fake-openai.ts';

/**
 * Follow-up questions: "and which one does it use?" names nothing a search can find; the rewrite turns
 * it into a standalone query before retrieval, and only when there is history.
 */

let kb: TestKnowledgeBase;
let fake: FakeOpenAI;

/** The rewrite call gets a standalone query; the answer call a cited answer. */
const REWRITTEN = 'Which port does the server listen on after npm start?';
const reply = (request: FakeChatRequest): string => {
  const system = (request.body.messages as { role: string; content: string }[])[0]!.content;
  return system === REWRITE_SYSTEM_PROMPT ? REWRITTEN : 'It listens on port 8787 [1].';
};

beforeAll(async () => {
  kb = await openTestKnowledgeBase();
  fake = await startFakeOpenAI({ reply });
});
afterAll(async () => {
  await fake?.close();
  kb?.close();
});
beforeEach(() => fake.reset());

const history = [
  { role: 'user' as const, content: 'How do I install the server?' },
  { role: 'assistant' as const, content: 'Run npm install, then npm start [1].' },
];
/** Names nothing the knowledge base contains: searched alone it finds nothing (see the last test). */
const FOLLOW_UP = 'and which one does it use?';
type Sent = { messages: { role: string; content: string }[]; max_tokens: number };

describe('follow-up questions', () => {
  it('with history, one short rewrite call comes before the answer, and its query finds the passage', async () => {
    const res = await postAsk(createTestApp(kb, { chat: fake }).app, { question: FOLLOW_UP, history });
    const body = (await res.json()) as AskResponse;
    expect(body.found).toBe(true);
    expect(body.sources[0]).toMatchObject({ path: 'install.md' });

    const [rewrite, answer] = fake.requestsTo('chat').map((r) => r.body as Sent);
    expect(fake.requestsTo('chat')).toHaveLength(2);
    expect(rewrite!.messages[0]!.content).toBe(REWRITE_SYSTEM_PROMPT);
    expect(rewrite!.messages[1]!.content).toContain('How do I install the server?');
    expect(rewrite!.messages[1]!.content).toContain(`Last user question: ${FOLLOW_UP}`);
    expect(rewrite!.max_tokens).toBeLessThanOrEqual(100);
    // The answer sees the question as asked and the history, not the rewritten query.
    expect(answer!.messages.at(-1)!.content.endsWith(`Question: ${FOLLOW_UP}`)).toBe(true);
    expect(answer!.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(JSON.stringify(answer)).not.toContain(REWRITTEN);
  });

  it("adds the rewrite call's tokens to the answer's usage", async () => {
    const a = createTestApp(kb, { chat: fake, env: { CACHE_TTL_SECONDS: '0' } }).app;
    const withRewrite = (await (await postAsk(a, { question: FOLLOW_UP, history })).json()) as AskResponse;
    const without = (await (
      await createTestApp(kb, { chat: fake, env: { QUERY_REWRITE: 'false' } }).app.request('/ask', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ question: FOLLOW_UP, history }),
      })
    ).json()) as AskResponse;
    expect(withRewrite.usage.promptTokens).toBeGreaterThan(without.usage.promptTokens);
    expect(withRewrite.usage.completionTokens).toBeGreaterThan(without.usage.completionTokens);
    expect(withRewrite.usage.totalTokens).toBe(
      withRewrite.usage.promptTokens + withRewrite.usage.completionTokens,
    );
  });

  it('a rewritten query that finds nothing falls back to the question as asked', async () => {
    fake.setReply((request) => (reply(request) === REWRITTEN ? 'xyzzy plugh' : reply(request)));
    const body = (await (
      await postAsk(createTestApp(kb, { chat: fake }).app, {
        question: 'How do I back up the database?',
        history,
      })
    ).json()) as AskResponse;
    fake.setReply(reply);
    expect(body.found).toBe(true);
    expect(body.sources[0]).toMatchObject({ path: 'backup.md' });
  });

  it('without history no rewrite call is made', async () => {
    await postAsk(createTestApp(kb, { chat: fake }).app, {
      question: 'Which port does the server listen on?',
    });
    expect(fake.requestsTo('chat')).toHaveLength(1);
    expect((fake.requestsTo('chat')[0]!.body as Sent).messages[0]!.content).not.toBe(REWRITE_SYSTEM_PROMPT);
  });

  it('with QUERY_REWRITE=false, or without a chat model, the previous question joined to the new one is searched', async () => {
    const off = (await (
      await postAsk(createTestApp(kb, { chat: fake, env: { QUERY_REWRITE: 'false' } }).app, {
        question: FOLLOW_UP,
        history,
      })
    ).json()) as AskResponse;
    expect(fake.requestsTo('chat')).toHaveLength(1);
    expect(off.sources[0]).toMatchObject({ path: 'install.md' });

    const extractive = (await (
      await postAsk(createTestApp(kb).app, { question: FOLLOW_UP, history })
    ).json()) as AskResponse;
    expect(extractive).toMatchObject({ mode: 'extractive', found: true });
    expect(extractive.sources[0]).toMatchObject({ path: 'install.md' });

    const alone = (await (
      await postAsk(createTestApp(kb).app, { question: FOLLOW_UP })
    ).json()) as AskResponse;
    expect(alone.found).toBe(false);
  });
});
