import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../src/errors.ts';
import { buildPrompt, DEFAULT_SYSTEM_PROMPT, type PromptInput } from '../src/rag/prompt.ts';
import type { HistoryMessage } from '../src/shared/protocol.ts';
import { tokenCounterFor } from '../src/text/tokens.ts';

const countTokens = tokenCounterFor('gpt-4o-mini');
const sources = [1, 2, 3].map((index) => ({
  index,
  title: `Doc ${index}`,
  heading: `Section ${index}`,
  text: `Passage number ${index}. `.repeat(40),
}));

function history(turns: number): HistoryMessage[] {
  return Array.from({ length: turns }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `turn ${i}: ${'words about the knowledge base '.repeat(20)}`,
  }));
}

function input(overrides: Partial<PromptInput> = {}): PromptInput {
  return {
    systemPrompt: DEFAULT_SYSTEM_PROMPT,
    question: 'How do I rebuild the knowledge base?',
    history: [],
    sources,
    countTokens,
    contextWindow: 128_000,
    answerMaxTokens: 800,
    ...overrides,
  };
}

function total(messages: { content: string }[]): number {
  return messages.reduce((n, m) => n + countTokens(m.content) + 4, 3);
}

describe('buildPrompt', () => {
  it('puts the system prompt first, numbered sources with title and heading, and the question last', () => {
    const { messages, sourceCount } = buildPrompt(input());
    expect(messages[0]).toEqual({ role: 'system', content: DEFAULT_SYSTEM_PROMPT });
    const last = messages.at(-1)!;
    expect(last.role).toBe('user');
    expect(last.content).toContain('[1] Doc 1 › Section 1');
    expect(last.content).toContain('[3] Doc 3 › Section 3');
    expect(last.content.endsWith('Question: How do I rebuild the knowledge base?')).toBe(true);
    expect(sourceCount).toBe(3);
  });

  it('a heading path that starts with the document title does not repeat the title', () => {
    const { messages } = buildPrompt(
      input({
        sources: [
          { index: 1, title: '导入文档', heading: '导入文档 > 重建知识库', text: 'Use --rebuild.' },
          { index: 2, title: 'Install Guide', heading: 'install guide', text: 'Run the installer.' },
          { index: 3, title: 'Doc', heading: 'Docker > Compose', text: 'Compose it.' },
        ],
      }),
    );
    const user = messages.at(-1)!.content;
    expect(user).toContain('[1] 导入文档 › 重建知识库\n');
    expect(user).toContain('[2] Install Guide\n');
    expect(user).toContain('[3] Doc › Docker > Compose\n');
  });

  it('a 100-turn history is trimmed oldest first to fit the window and keeps the latest turns', () => {
    const turns = history(100);
    const built = buildPrompt(input({ history: turns, contextWindow: 4096, answerMaxTokens: 800 }));
    expect(built.historyCount).toBeGreaterThan(0);
    expect(built.historyCount).toBeLessThan(100);
    expect(built.sourceCount).toBe(3);
    const kept = built.messages.slice(1, -1);
    expect(kept.at(-1)!.content).toBe(turns[99]!.content);
    expect(kept[0]!.role).toBe('user');
    expect(total(built.messages) + 800).toBeLessThanOrEqual(4096);
    expect(built.promptTokens).toBe(total(built.messages));
  });

  it('drops the lowest-ranked sources only after all history is gone', () => {
    const built = buildPrompt(input({ history: history(10), contextWindow: 1200, answerMaxTokens: 800 }));
    expect(built.historyCount).toBe(0);
    expect(built.sourceCount).toBeLessThan(3);
    expect(built.sourceCount).toBeGreaterThan(0);
    expect(built.messages.at(-1)!.content).toContain('[1] Doc 1');
    expect(total(built.messages) + 800).toBeLessThanOrEqual(1200);
  });

  it('a question that cannot fit on its own is an invalid request', () => {
    const question = 'why '.repeat(3000);
    expect(() => buildPrompt(input({ question, contextWindow: 2048 }))).toThrow(InvalidRequestError);
  });
});
