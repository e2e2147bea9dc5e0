import { termCoverage } from './relevance.ts';

export interface ExtractiveSource {
  index: number;
  title: string;
  heading: string;
  text: string;
}

const LABEL = {
  en: 'No chat model is configured, so this answer quotes the most relevant passages of the knowledge base (extractive mode):',
  zh: '当前未配置对话模型，以下是知识库中最相关的原文摘录（抽取式回答）：',
} as const;

/** Sentence ends in English and CJK text; newlines end sentences too (lists, headings). */
const SENTENCE_END = /(?<=[.!?。！？；])\s+|(?<=[。！？；])|\n+/u;
/** Lines that are Markdown furniture rather than prose. */
const NOT_PROSE = /^(```|\|?\s*:?-{3,}|#{1,6}\s*$)/;
const MAX_QUOTE_CHARS = 320;
/** Passages quoted; more makes the answer a wall of text. */
const MAX_QUOTES = 3;

function bestQuote(text: string, coverage: (s: string) => number): string {
  const sentences = text
    .split(SENTENCE_END)
    .map((s) => s.replace(/^#{1,6}\s+|^[-*+]\s+|^\d+\.\s+/, '').trim())
    .filter((s) => s.length > 1 && !NOT_PROSE.test(s));
  if (sentences.length === 0) return '';
  let best = 0;
  let bestScore = -1;
  sentences.forEach((s, i) => {
    const score = coverage(s);
    if (score > bestScore) [best, bestScore] = [i, score];
  });
  // A short best sentence reads better with the one after it ("Run this:" + the command).
  let quote = sentences[best]!;
  const next = sentences[best + 1];
  if (quote.length < 80 && next) quote = `${quote} ${next}`;
  const chars = Array.from(quote);
  return chars.length > MAX_QUOTE_CHARS ? `${chars.slice(0, MAX_QUOTE_CHARS).join('')}…` : quote;
}

/**
 * The answer given without a chat model: the best sentence of each of the top passages, each with its
 * citation, under a label that says plainly that this is a quotation, in the question's language.
 *
 * @example
 * extractiveAnswer('How do I rebuild?', [{ index: 1, title: 'Ingesting', heading: 'Rebuild', text: '...' }], 'en')
 * // 'No chat model is configured, ...\n\n- **Ingesting › Rebuild**: Use --rebuild to ... [1]'
 */
export function extractiveAnswer(
  question: string,
  sources: readonly ExtractiveSource[],
  language: 'en' | 'zh',
): string {
  const coverage = termCoverage(question);
  const lines = sources
    .slice(0, MAX_QUOTES)
    .map((source) => {
      const quote = bestQuote(source.text, coverage);
      if (!quote) return '';
      const where = [source.title, source.heading.split(' > ').at(-1)].filter(Boolean).join(' › ');
      return `- **${where}**${language === 'zh' ? '：' : ': '}${quote} [${source.index}]`;
    })
    .filter(Boolean);
  return `${LABEL[language]}\n\n${lines.join('\n')}`;
}
