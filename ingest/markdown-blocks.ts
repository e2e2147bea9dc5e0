/**
 * Reading Markdown-flavoured text into blocks: headings (ATX `#`..`######` and setext, a paragraph
 * underlined with `===` or `---`), code fences, tables, lists and paragraphs, in document order, each with
 * its offsets into the text. Pure; the chunker turns the blocks into units (sections.ts). Thematic breaks
 * are read as a blank line.
 *
 * This is the subset of CommonMark that decides where chunks may be cut, not a Markdown parser: inline
 * syntax is kept as text, and anything unrecognised is a paragraph.
 */

/**
 * A line of the document without its line ending; `offset` is where it starts in the text.
 *
 * @example
 * const second: Line = { text: 'world', offset: 6 }; // in 'hello\nworld'
 */
export interface Line {
  text: string;
  offset: number;
}

/**
 * Lines joined with '\n' (each tidied), with a map from an index in `text` back to the document.
 *
 * @example
 * // 'Intro\n\nOne\ntwo' read as a paragraph of its last two lines:
 * paragraph.text        // 'One\ntwo'
 * paragraph.offsetAt(4) // 11, where 'two' starts in the document
 */
export interface JoinedLines {
  text: string;
  offsetAt: (i: number) => number;
}

/**
 * One item of a list: its lines joined, and whether a blank line came before it.
 *
 * @example
 * // '- one\n\n- two': the second item
 * item.text        // '- two'
 * item.blankBefore // true
 */
export interface ListItem extends JoinedLines {
  /** Where the item's first line starts in the document. */
  offset: number;
  blankBefore: boolean;
}

/**
 * A block of the document. Content blocks say whether a blank line (or a thematic break) separates them
 * from the content before them, so that chunks rebuild the document's spacing. A heading carries its
 * level (1 to 6; setext headings are 1 for `===`, 2 for `---`), its own text ('' for an empty heading),
 * the heading path it starts (empty headings left out) and where its first line starts.
 *
 * @example
 * // '# Setup\nLinux\n-----' gives two heading blocks:
 * [
 *   { kind: 'heading', level: 1, text: 'Setup', path: ['Setup'], offset: 0 },
 *   { kind: 'heading', level: 2, text: 'Linux', path: ['Setup', 'Linux'], offset: 8 },
 * ]
 */
export type MarkdownBlock =
  | { kind: 'heading'; level: number; text: string; path: string[]; offset: number }
  | { kind: 'fence'; open: string; body: Line[]; close: string; offset: number; blankBefore: boolean }
  | { kind: 'table'; header: Line[]; rows: Line[]; blankBefore: boolean }
  | { kind: 'list'; items: ListItem[]; blankBefore: boolean }
  | ({ kind: 'paragraph'; blankBefore: boolean } & JoinedLines);

const FENCE = /^([ \t]*)(`{3,}|~{3,})(.*)$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$/;
// A setext underline: no inner spaces ('- - -' is only a thematic break), up to 3 spaces of indent.
const SETEXT_UNDERLINE = /^ {0,3}(?:=+|-+)[ \t]*$/;
// What a setext heading's text cannot start with: indented code, a block quote.
const NOT_SETEXT_TEXT = /^(?: {0,3}\t| {4}| {0,3}>)/;
// Twice what a long heading takes: 99% of 3,700 ATX headings in the READMEs of node_modules are under 100.
const MAX_SETEXT_CHARS = 200;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const LIST_ITEM = /^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)/;
const TABLE_SEPARATOR = /^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const BLANK = /^[ \t]*$/;

/** Trailing spaces dropped and inner runs collapsed; lines indented like code keep their spacing. */
function tidy(line: string): string {
  const trimmed = line.replace(/[ \t]+$/, '');
  return /^(?: {4}|\t)/.test(trimmed) ? trimmed : trimmed.replace(/(?<=\S)(?:[ \t]{2,}|\t)/g, ' ');
}

function fenceOpen(text: string): RegExpExecArray | null {
  const match = FENCE.exec(text);
  // A backtick fence's info string cannot hold backticks (that is inline code on one line).
  return match && !(match[2]!.startsWith('`') && match[3]!.includes('`')) ? match : null;
}

function isFenceClose(text: string, marker: string): boolean {
  const s = text.trim();
  return s.length >= marker.length && s[0] === marker[0] && /^(`+|~+)$/.test(s);
}

function isTableStart(lines: Line[], i: number): boolean {
  const next = lines[i + 1]?.text;
  return (
    next !== undefined && lines[i]!.text.includes('|') && next.includes('|') && TABLE_SEPARATOR.test(next)
  );
}

function startsBlock(lines: Line[], i: number): boolean {
  const text = lines[i]!.text;
  return fenceOpen(text) !== null || HEADING.test(text) || RULE.test(text) || isTableStart(lines, i);
}

/** A heading's text without custom anchors ("Setup {#setup}") and with whitespace collapsed. */
function headingText(raw: string): string {
  return raw
    .replace(/[ \t]*\{#[^}]*\}[ \t]*$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** An ATX heading's text: closing hashes are not part of it (in a setext heading they are). */
function atxHeadingText(raw: string): string {
  return headingText(raw.replace(/(?:^|[ \t]+)#+[ \t]*$/, ''));
}

/**
 * The text of the setext heading that lines [start, underline) make, or null when they make none. As in
 * CommonMark they must be a paragraph, so neither indented code nor a block quote (whose `---` is a
 * thematic break after it), and not the YAML of front matter (its closing `---` is no underline).
 *
 * Unlike CommonMark, text over MAX_SETEXT_CHARS is no heading: plain-text files (licences, notes, PDFs)
 * draw `-----` lines right under whole paragraphs, and a heading's text leaves the chunk body for the
 * heading path, where it is cut to half a chunk and, with no content under it, not indexed at all. Such a
 * paragraph stays a paragraph, its underline a thematic break (`---`) or text (`===`), as before.
 */
function setextHeadingText(
  lines: Line[],
  start: number,
  underline: number,
  frontMatterClose: number,
): string | null {
  if (underline === frontMatterClose) return null;
  const parts: string[] = [];
  for (let k = start; k < underline; k++) {
    if (NOT_SETEXT_TEXT.test(lines[k]!.text)) return null;
    parts.push(lines[k]!.text.trim());
  }
  const text = headingText(parts.join(' '));
  return text.length <= MAX_SETEXT_CHARS ? text : null;
}

/** The index of the line closing front matter (`---` on the first line, `---` or `...`), else -1. */
function frontMatterEnd(lines: Line[]): number {
  if (!/^---[ \t]*$/.test(lines[0]!.text)) return -1;
  return lines.findIndex((line, k) => k > 0 && /^(?:---|\.\.\.)[ \t]*$/.test(line.text));
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  for (let pos = 0; pos <= text.length;) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const cr = end > pos && text.charCodeAt(end - 1) === 13;
    lines.push({ text: text.slice(pos, cr ? end - 1 : end), offset: pos });
    pos = end + 1;
  }
  return lines;
}

function joinLines(lines: Line[]): JoinedLines {
  const starts: number[] = [];
  let text = '';
  for (const line of lines) {
    if (text) text += '\n';
    starts.push(text.length);
    text += tidy(line.text);
  }
  const offsetAt = (i: number) => {
    // The last line starting at or before i (binary search: paragraphs of PDFs can have thousands of lines).
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lines[lo]!.offset + (i - starts[lo]!);
  };
  return { text, offsetAt };
}

/** A table line as chunks show it: tidied and trimmed. */
function tableLine(line: Line): Line {
  return { text: tidy(line.text).trim(), offset: line.offset };
}

/**
 * The fence marker (a run of backticks or tildes) of a fence's opening line; the line itself when it
 * is not one.
 *
 * @example
 * fenceMarker('```ts title="a.ts"') // '```'
 */
export function fenceMarker(open: string): string {
  return FENCE.exec(open)?.[2] ?? open;
}

/**
 * The blocks of `text` in order. Fences are never looked inside (an unclosed fence runs to the end of
 * the document, as in CommonMark, and is given a closing line); table lines and the lines of paragraphs
 * and list items are tidied (see `tidy`), fence lines are kept as they are. A paragraph directly over a
 * `===` or `---` line is a setext heading, as in CommonMark (a `---` after a blank line stays a thematic
 * break); the `---` closing front matter at the start of the text is not an underline.
 *
 * @example
 * readMarkdownBlocks('# Setup\n\nRun it.\n\n- one\n- two').map((b) => b.kind) // ['heading', 'paragraph', 'list']
 */
export function readMarkdownBlocks(text: string): MarkdownBlock[] {
  const lines = splitLines(text);
  const blocks: MarkdownBlock[] = [];
  const headings: { level: number; text: string }[] = [];
  const pushHeading = (level: number, text: string, offset: number) => {
    while (headings.length > 0 && headings.at(-1)!.level >= level) headings.pop();
    headings.push({ level, text });
    blocks.push({ kind: 'heading', level, text, path: headings.map((h) => h.text).filter(Boolean), offset });
  };
  const frontMatterClose = frontMatterEnd(lines);
  let blank = true;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (BLANK.test(line.text)) {
      blank = true;
      i++;
      continue;
    }
    // Whether the next content block follows a blank line: content resets it, headings leave it as it is.
    const blankBefore = blank;
    const fence = fenceOpen(line.text);
    const heading = fence ? null : HEADING.exec(line.text);
    let j = i + 1;
    if (fence) {
      const marker = fence[2]!;
      while (j < lines.length && !isFenceClose(lines[j]!.text, marker)) j++;
      const close = j < lines.length ? lines[j]!.text.trimEnd() : fence[1]! + marker;
      let bodyEnd = j;
      if (j === lines.length) while (bodyEnd > i + 1 && BLANK.test(lines[bodyEnd - 1]!.text)) bodyEnd--;
      const body = lines.slice(i + 1, bodyEnd);
      blocks.push({
        kind: 'fence',
        open: line.text.trimEnd(),
        body,
        close,
        offset: line.offset,
        blankBefore,
      });
      blank = false;
      j++;
    } else if (heading) {
      pushHeading(heading[1]!.length, atxHeadingText(heading[2] ?? ''), line.offset);
    } else if (RULE.test(line.text)) {
      blank = true; // a thematic break separates like a blank line
    } else if (isTableStart(lines, i)) {
      j = i + 2;
      while (
        j < lines.length &&
        !BLANK.test(lines[j]!.text) &&
        lines[j]!.text.includes('|') &&
        !startsBlock(lines, j)
      )
        j++;
      const header = [line, lines[i + 1]!].map(tableLine);
      blocks.push({ kind: 'table', header, rows: lines.slice(i + 2, j).map(tableLine), blankBefore });
      blank = false;
    } else if (LIST_ITEM.test(line.text)) {
      const items: { lines: Line[]; blankBefore: boolean }[] = [];
      let sawBlank = false;
      for (j = i; j < lines.length; j++) {
        const next = lines[j]!;
        if (BLANK.test(next.text)) {
          sawBlank = true;
          continue;
        }
        if (startsBlock(lines, j)) break;
        const isItem = LIST_ITEM.test(next.text);
        // After a blank line only another item or an indented continuation keeps the list going.
        if (!isItem && sawBlank && !/^[ \t]{2,}\S/.test(next.text)) break;
        if (isItem || items.length === 0) items.push({ lines: [], blankBefore: sawBlank });
        else if (sawBlank) items.at(-1)!.lines.push({ text: '', offset: next.offset });
        items.at(-1)!.lines.push(next);
        sawBlank = false;
      }
      const joined = items.map((item) => ({
        ...joinLines(item.lines),
        offset: item.lines[0]!.offset,
        blankBefore: item.blankBefore,
      }));
      blocks.push({ kind: 'list', items: joined, blankBefore });
      // Blank lines after the last item were read by the loop above.
      blank = sawBlank;
    } else {
      let setext: string | null = null;
      // Once lines are no heading's text, more lines under them are not either: stop looking (and keep
      // a long paragraph with many '===' lines linear).
      let mayBeSetext = true;
      while (j < lines.length && !BLANK.test(lines[j]!.text)) {
        // Checked first: an underline of dashes is also a thematic break, and '-' alone a list item.
        if (mayBeSetext && SETEXT_UNDERLINE.test(lines[j]!.text)) {
          setext = setextHeadingText(lines, i, j, frontMatterClose);
          if (setext !== null) break;
          mayBeSetext = false;
        }
        if (LIST_ITEM.test(lines[j]!.text) || startsBlock(lines, j)) break;
        j++;
      }
      if (setext !== null) {
        // Like an ATX heading, it leaves `blank` as it is.
        pushHeading(lines[j]!.text.includes('=') ? 1 : 2, setext, line.offset);
        j++;
      } else {
        blocks.push({ kind: 'paragraph', ...joinLines(lines.slice(i, j)), blankBefore });
        blank = false;
      }
    }
    i = j;
  }
  return blocks;
}
