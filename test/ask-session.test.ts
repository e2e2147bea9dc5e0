import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_PROMPT } from '../src/rag/prompt.ts';
import type { AskResponse, HistoryMessage } from '../src/shared/protocol.ts';
import { openAskKnowledgeBase, serveOnSocket, startAsk, type AskKnowledgeBase } from './ask-cli-fixture.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

let kb: AskKnowledgeBase;
let fake: FakeOpenAI;
let chatEnv: Record<string, string>;

beforeAll(async () => {
  kb = await openAskKnowledgeBase();
  fake = await startFakeOpenAI({ reply: 'Copy the file [1].' });
  chatEnv = envFor(fake);
});

/** Local mode with a chat model talking to `provider`. */
function envFor(provider: FakeOpenAI): Record<string, string> {
  return {
    KB_PATH: kb.kbPath,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: provider.url,
    EMBEDDING_PROVIDER: 'local',
    LLM_MAX_RETRIES: '0',
    LOG_LEVEL: 'silent',
  };
}

beforeEach(() => fake.reset());

afterAll(async () => {
  await fake?.close();
  kb?.close();
});

/**
 * The history part of each answer request `provider` received: between the system prompt and the question.
 * Answers are the requests with the answer system prompt (a follow-up rewrite is a call of its own).
 */
function historiesSent(provider: FakeOpenAI): HistoryMessage[][] {
  return provider
    .requestsTo('chat')
    .map((r) => r.body.messages as HistoryMessage[])
    .filter((messages) => messages[0]?.content === DEFAULT_SYSTEM_PROMPT)
    .map((messages) => messages.slice(1, -1));
}

describe('ask CLI, interactive session', () => {
  it('sends earlier turns as history; /sources shows the last sources; /reset forgets; /exit quits', async () => {
    const run = startAsk([], chatEnv);
    await run.waitFor(/\/exit quits\.\n/);
    run.type('How do I back up the database?\n');
    await run.waitFor(/Sources:\n {2}\[1\] Backups · backup\.md\n/);
    run.type('Where does the database live?\n');
    await run.waitFor(/(Sources:[^]*){2}/);
    run.type('/sources\n');
    await run.waitFor(/(Sources:\n {2}\[1\] Backups · backup\.md\n[^]*){3}/);
    run.type('/reset\n');
    await run.waitFor(/\(conversation cleared\)\n/);
    run.type('/sources\n');
    await run.waitFor(/\(no answer yet\)\n/);
    run.type('How do I back up the database?\n/exit\nnever asked\n');
    expect(await run.code).toBe(0);
    expect(run.stderr).toBe('');

    const histories = historiesSent(fake);
    expect(histories).toHaveLength(3);
    expect(histories[0]).toEqual([]);
    expect(histories[1]).toEqual([
      { role: 'user', content: 'How do I back up the database?' },
      { role: 'assistant', content: 'Copy the file [1].' },
    ]);
    expect(histories[2]).toEqual([]);
  });

  it('Ctrl-C cancels the answer in progress, which is left out of the history; a second Ctrl-C exits', async () => {
    const reply = Array.from({ length: 40 }, (_, i) => `step ${i} [1].`).join(' ');
    const slow = await startFakeOpenAI({ reply, chunkDelayMs: 100 });
    try {
      const run = startAsk([], envFor(slow));
      await run.waitFor(/\/exit quits\.\n/);
      run.type('How do I back up the database?\n');
      await run.waitFor(/step 1 /);
      run.interrupt();
      await run.waitFor(/\(cancelled\)\n/);
      // The model request was cancelled, not left to finish in the background.
      await slow.waitUntil(() => slow.requestsTo('chat')[0]?.aborted === true);
      expect(run.stdout).not.toMatch(/step 39/);

      slow.setReply('Quick answer [1].');
      run.type('How do I back up the database?\n');
      await run.waitFor(/Quick answer \[1\]\.\n\nSources:\n.*\n$/);
      // The session finishes the turn (history, sources) after the last write.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(historiesSent(slow)[1]).toEqual([]);

      run.interrupt();
      await run.waitFor(/\(Ctrl-C again or \/exit to quit\)\n/);
      run.interrupt();
      expect(await run.code).toBe(0);
    } finally {
      await slow.close();
    }
  }, 15_000);

  it('reads a Chinese question split mid-character across reads, and ends at end of input', async () => {
    const run = startAsk([], { KB_PATH: kb.kbPath, LOG_LEVEL: 'silent' });
    const bytes = Buffer.from('如何备份数据库？\n', 'utf8');
    // Byte 1 is inside the first character's three-byte sequence.
    run.type(bytes.subarray(0, 1));
    run.type(bytes.subarray(1));
    await run.waitFor(/\[1\] 数据库备份 · 备份\.md/);
    expect(run.stdout).toMatch(/复制这个文件/);
    run.end();
    expect(await run.code).toBe(0);
  });

  it('an error prints one line and the session goes on', async () => {
    const run = startAsk(['--kb', 'nope'], chatEnv);
    run.type('anything?\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    run.end();
    expect(await run.code).toBe(0);
    expect(run.stderr).toBe('ask: knowledge base "nope" not found; ingest documents into it first\n');
  });
});

describe('ask CLI, interactive session with --url', () => {
  const received: Record<string, unknown>[] = [];
  let service: Awaited<ReturnType<typeof serveOnSocket>>;
  let url: string;
  let nextConversationId: string | undefined;

  // A stand-in service at the HTTP boundary, speaking /ask's stream protocol, that may hand out conversation ids.
  beforeAll(async () => {
    const app = new Hono().post('/ask', async (c) => {
      const body = (await c.req.json()) as Record<string, unknown>;
      received.push(body);
      const response: AskResponse = {
        id: `r${received.length}`,
        answer: `reply ${received.length}`,
        sources: [],
        found: true,
        mode: 'llm',
        usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 },
        model: 'm',
        kb: 'default',
        ...(nextConversationId ? { conversationId: nextConversationId } : {}),
      };
      return streamSSE(c, async (stream) => {
        await stream.writeSSE({ event: 'sources', data: JSON.stringify({ sources: [] }) });
        await stream.writeSSE({ event: 'delta', data: JSON.stringify({ text: response.answer }) });
        await stream.writeSSE({ event: 'done', data: JSON.stringify(response) });
      });
    });
    service = await serveOnSocket(app.fetch);
    url = service.url;
  });

  afterAll(async () => {
    await service?.close();
  });

  it('sends its history until the service returns a conversationId, then the id instead', async () => {
    received.length = 0;
    nextConversationId = undefined;
    const run = startAsk(['--url', url], {});
    run.type('first\n');
    await run.waitFor(/reply 1\n/);
    nextConversationId = 'conv-42';
    run.type('second\n');
    await run.waitFor(/reply 2\n/);
    run.type('third\n');
    await run.waitFor(/reply 3\n/);
    run.type('/reset\nfourth\n');
    await run.waitFor(/reply 4\n/);
    run.end();
    expect(await run.code).toBe(0);

    expect(received.map((b) => b.conversationId)).toEqual([undefined, undefined, 'conv-42', undefined]);
    expect(received.map((b) => b.stream)).toEqual([true, true, true, true]);
    expect(received.map((b) => b.history)).toEqual([
      [],
      [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'reply 1' },
      ],
      undefined,
      [],
    ]);
  });
});
