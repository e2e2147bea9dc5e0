import { parseInline, type Inline } from './markdown-inline.ts';

/**
 * The Markdown subset answers are written in, parsed into a small tree of plain data: paragraphs,
 * headings, lists, block quotes, rules and fenced code; inline code, bold, italic, links, bare URLs and
 * citation markers `[n]`. Nothing here touches the DOM (`markdown-dom.ts` mounts the tree with
 * `createElement` and `textContent`), so HTML in the text can only ever become text.
 *
 * The parser is forgiving by design: it runs on every streamed piece of a half-written answer, so an
 * unclosed `**` or code fence is shown as it is until its end arrives.
 */

export type Block =
  | { type: 'paragraph'; children: Inline[] }
  | { type: 'heading'; level: number; children: Inline[] }
  | { type: 'list'; ordered: boolean; start: number; items: Inline[][] }
  | { type: 'quote'; children: Inline[] }
  | { type: 'code'; language: string; text: string }
  | { type: 'rule' };

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$/;
const LIST_ITEM = /^(\s*)([-*+•]|(\d{1,9})[.)])\s+(.*)$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;

/**
 * Parses Markdown into blocks. Nested lists are flattened into their parent list, and a line that
 * follows a list item without a blank line continues that item.
 *
 * @example
 * parseMarkdown('Steps:\n\n1. Stop the server\n2. Copy `kb.sqlite` [2]');
 * // [{ type: 'paragraph', ... }, { type: 'list', ordered: true, start: 1, items: [[...], [...]] }]
 */
export function parseMarkdown(markdown: string): Block[] {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  /** Lines of the paragraph, quote or list item being read. */
  let buffer: string[] = [];
  let open: 'paragraph' | 'quote' | 'item' | undefined;
  let list: { ordered: boolean; start: number; items: string[][] } | undefined;

  const closeText = (): void => {
    if (open === 'paragraph' && buffer.length)
      blocks.push({ type: 'paragraph', children: parseInline(buffer.join('\n')) });
    if (open === 'quote' && buffer.length)
      blocks.push({ type: 'quote', children: parseInline(buffer.join('\n')) });
    buffer = [];
    open = open === 'item' ? 'item' : undefined;
  };
  const closeAll = (): void => {
    if (open !== 'item') closeText();
    if (list) {
      const { ordered, start, items } = list;
      blocks.push({ type: 'list', ordered, start, items: items.map((item) => parseInline(item.join('\n'))) });
    }
    list = undefined;
    buffer = [];
    open = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      closeAll();
      const marker = fence[1]!;
      const body: string[] = [];
      let j = i + 1;
      // An unclosed fence (a stream mid-way) runs to the end of the text.
      while (j < lines.length && !new RegExp(`^ {0,3}${marker[0]}{${marker.length},}\\s*$`).test(lines[j]!)) {
        body.push(lines[j]!);
        j++;
      }
      blocks.push({ type: 'code', language: fence[2] ?? '', text: body.join('\n') });
      i = j;
      continue;
    }
    if (line.trim() === '') {
      closeAll();
      continue;
    }
    if (RULE.test(line)) {
      closeAll();
      blocks.push({ type: 'rule' });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      closeAll();
      blocks.push({ type: 'heading', level: heading[1]!.length, children: parseInline(heading[2] ?? '') });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = item[3] !== undefined;
      // A nested list of another kind joins its parent; a new top-level kind starts a new list.
      if (list && list.ordered !== ordered && item[1] === '') closeAll();
      if (!list) {
        closeText();
        list = { ordered, start: ordered ? Number(item[3]) : 1, items: [] };
      }
      list.items.push([item[4]!]);
      open = 'item';
      continue;
    }
    const quote = QUOTE.exec(line);
    if (quote && open !== 'item') {
      if (open !== 'quote') closeAll();
      open = 'quote';
      buffer.push(quote[1]!);
      continue;
    }
    if (open === 'item' && list) {
      list.items[list.items.length - 1]!.push(line.trim());
      continue;
    }
    if (open !== 'paragraph') closeAll();
    open = 'paragraph';
    buffer.push(line);
  }
  closeAll();
  return blocks;
}
