/**
 * The chunker: Markdown-flavoured text in, chunks that fit the embedder's token budget out. Pure.
 *
 * How a document is cut, in order of preference:
 * 1. along headings (ATX `#`..`######`, never inside code fences): a chunk never spans two sections, and
 *    its embedText starts with the section's heading path ("Install Guide > Windows > Proxy");
 * 2. between blocks (paragraphs, list items, code fences, table rows), packing as many as fit;
 * 3. between sentences (`. ! ?` before whitespace, `。！？；…` anywhere), then clauses (`，、；：` and
 *    `, ; :` before whitespace), then words, and only for a single word or an unbroken CJK run longer
 *    than the budget, at token boundaries (never inside a character, nor inside a Latin word if the run
 *    has any other place to cut).
 *
 * Code fences are never split, except a fence that alone exceeds the budget: it becomes chunks of its own,
 * cut between lines, each part re-opened with the original fence line and closed again, so that every
 * chunk is valid Markdown (a single code line longer than the budget is cut at token boundaries). Tables
 * repeat their header and separator rows in every chunk holding their rows. Consecutive chunks of one
 * section share about `overlapTokens` of whole trailing sentences (prose only, never across headings).
 *
 * Cost: every sentence (or list item, row, fence) is measured once; a chunk's exact token count is then
 * made from its units' counts, reading only the text around their joins (countJoined). Linear in the
 * document; no text is re-counted as a chunk grows.
 */
import {
  countJoined,
  countTokens,
  measureTokens,
  truncateToTokens,
  type MeasuredText,
} from '../src/text/tokens.ts';

export interface ChunkOptions {
  /** Most o200k_base tokens in a chunk's embedText, heading prefix included; a hard limit. Default 400, at least 16. */
  maxTokens: number;
  /** Tokens of whole sentences a chunk repeats from the previous one in its section. Default 60 (15%); 0 disables; at most half of maxTokens (larger values are clamped). */
  overlapTokens: number;
  /** A section's last chunk below this takes sentences from the one before it. Default 40. */
  minTokens: number;
}

/** 400-token chunks with 60 tokens (15%) of overlap, no trailing piece under 40 tokens where avoidable. */
export const defaultChunkOptions: ChunkOptions = Object.freeze({
  maxTokens: 400,
  overlapTokens: 60,
  minTokens: 40,
});

export interface DraftChunk {
  /** 0-based position in the document. */
  ordinal: number;
  /** The heading path joined with ' > ' ('' before the first heading). */
  heading: string;
  /** The body, without the heading prefix. */
  text: string;
  /** What gets embedded and indexed: the title and heading path on one line, a blank line, the body. */
  embedText: string;
  /** countTokens(embedText); never above maxTokens. */
  tokenCount: number;
  /** 1-based page where the body starts, when the document has pageOffsets. */
  page?: number;
}

/** A piece of a section that packing never splits. */
interface Unit {
  /** The text and its tokens, measured once: chunks count as the sum of their units plus their joins. */
  measured: MeasuredText;
  /** What joins it to the unit before it in the same chunk. */
  sep: string;
  /** Index in the document's text where it starts, for page numbers. */
  offset: number;
  /** `part`: one part of a fence over the budget, always a chunk of its own. Only prose overlaps. */
  kind: 'prose' | 'code' | 'row' | 'part';
  /** For table rows: the header and separator rows, repeated in each chunk holding rows of the table. */
  table?: MeasuredText;
}

interface Line {
  text: string;
  offset: number;
}

const FENCE = /^([ \t]*)(`{3,}|~{3,})(.*)$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const LIST_ITEM = /^[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)/;
const TABLE_SEPARATOR = /^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const BLANK = /^[ \t]*$/;
const CLOSERS = `)\\]"'’”»」』）】》`;
/** Latin ends need whitespace and no lowercase after (so "e.g. this" and "Vue.js" stay whole); CJK ends need nothing. */
const SENTENCE_END = new RegExp(
  `[.!?]+[${CLOSERS}]*(?=\\s+[^\\s\\p{Ll}])|[。！？；]+[${CLOSERS}]*|…+[${CLOSERS}]*(?!\\s*\\p{Ll})`,
  'gu',
);
const CLAUSE_END = /[,;:]+(?=\s)|[，、；：]+/gu;
const WORD = /\S+/gu;
/** Words whose period does not end a sentence (lower-cased, without the final period). */
const ABBREVIATIONS = new Set('e.g i.e vs cf mr mrs ms dr prof fig approx'.split(' '));
const LATIN_WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;
const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

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

function headingText(raw: string): string {
  return raw
    .replace(/(?:^|[ \t]+)#+[ \t]*$/, '') // closing hashes
    .replace(/[ \t]*\{#[^}]*\}$/, '') // custom anchors: "Setup {#setup}"
    .replace(/\s+/g, ' ')
    .trim();
}

/** Spans [start, end) of `text` cut after each match of `ends`, trimmed, empty ones dropped. */
function spansAfter(text: string, ends: RegExp): [number, number][] {
  const spans: [number, number][] = [];
  let start = 0;
  const push = (end: number) => {
    let a = start;
    let b = end;
    while (a < b && /\s/.test(text[a]!)) a++;
    while (b > a && /\s/.test(text[b - 1]!)) b--;
    if (b > a) spans.push([a, b]);
    start = end;
  };
  for (const match of text.matchAll(ends)) {
    if (match[0] === '.') {
      let from = match.index;
      while (from > 0 && !/\s/.test(text[from - 1]!)) from--;
      const word = text.slice(from, match.index).toLowerCase();
      // "e.g. This", "Dr. Smith", initials ("J. Smith") do not end sentences.
      if (ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word)) continue;
    }
    push(match.index + match[0].length);
  }
  push(text.length);
  return spans;
}

function gapSep(gap: string): string {
  return gap.includes('\n') ? '\n' : gap.length > 0 ? ' ' : '';
}

function sepTokens(sep: string): number {
  return sep === '' ? 0 : 1;
}

interface Piece {
  start: number;
  end: number;
  tokens: number;
}

/** Cuts `text` (over `limit` tokens) at clauses, else words, else tokens; pieces are spans of `text`. */
function splitOversized(text: string, limit: number, level = 0): Piece[] {
  if (level >= 2) return splitByTokens(text, limit);
  const spans =
    level === 0
      ? spansAfter(text, CLAUSE_END)
      : [...text.matchAll(WORD)].map((m) => [m.index, m.index + m[0].length] as [number, number]);
  if (spans.length <= 1) return splitOversized(text, limit, level + 1);
  const pieces: Piece[] = [];
  let current: Piece | undefined;
  for (const [start, end] of spans) {
    const tokens = countTokens(text.slice(start, end));
    if (tokens > limit) {
      if (current) pieces.push(current);
      current = undefined;
      for (const p of splitOversized(text.slice(start, end), limit, level + 1)) {
        pieces.push({ start: start + p.start, end: start + p.end, tokens: p.tokens });
      }
    } else if (current && current.tokens + tokens + 1 <= limit) {
      current = { start: current.start, end, tokens: current.tokens + tokens + 1 };
    } else {
      if (current) pieces.push(current);
      current = { start, end, tokens };
    }
  }
  if (current) pieces.push(current);
  return pieces;
}

/** Cuts at token boundaries, backing off to the last place that is not inside a Latin word. */
function splitByTokens(text: string, limit: number, exact = false): Piece[] {
  const pieces: Piece[] = [];
  let pos = 0;
  while (pos < text.length) {
    // A window keeps each step proportional to the limit, not to the rest of the text; it grows when it
    // holds fewer than `limit` tokens (long tokens: runs of spaces or symbols).
    let cut = 0;
    for (let size = limit * 4; ; size *= 2) {
      const window = text.slice(pos, pos + size);
      cut = truncateToTokens(window, limit).length;
      if (cut < window.length || pos + size >= text.length) break;
    }
    if (cut === 0) cut = String.fromCodePoint(text.codePointAt(pos)!).length;
    if (pos + cut < text.length) {
      for (let i = cut; i > 0; i--) {
        const before = text[pos + i - 1]!;
        const after = text[pos + i]!;
        if (/[\uDC00-\uDFFF]/.test(after)) continue;
        if (
          !(LATIN_WORD_CHAR.test(before) && LATIN_WORD_CHAR.test(after)) ||
          CJK_CHAR.test(before) ||
          CJK_CHAR.test(after)
        ) {
          cut = i;
          break;
        }
      }
      // One giant word: cut at the token boundary, but never between the halves of a surrogate pair.
      if (/[\uDC00-\uDFFF]/.test(text[pos + cut] ?? '')) cut = cut > 1 ? cut - 1 : 2;
    }
    const piece = text.slice(pos, pos + cut);
    const start = exact ? pos : pos + (piece.length - piece.trimStart().length);
    const end = exact ? pos + cut : pos + piece.trimEnd().length;
    if (end > start) pieces.push({ start, end, tokens: countTokens(text.slice(start, end)) });
    pos += cut;
  }
  return pieces;
}

/** Sentences of a paragraph or list item as units; `offsetAt` maps an index in `text` to the document. */
function proseUnits(text: string, sep: string, limit: number, offsetAt: (i: number) => number): Unit[] {
  const units: Unit[] = [];
  let previousEnd = -1;
  for (const [start, end] of spansAfter(text, SENTENCE_END)) {
    const sentence = text.slice(start, end);
    const measured = measureTokens(sentence);
    if (measured.tokens <= limit) {
      const joint = previousEnd < 0 ? sep : gapSep(text.slice(previousEnd, start));
      units.push({ measured, sep: joint, offset: offsetAt(start), kind: 'prose' });
      previousEnd = end;
      continue;
    }
    for (const piece of splitOversized(sentence, limit)) {
      const from = start + piece.start;
      const joint = previousEnd < 0 ? sep : gapSep(text.slice(previousEnd, from));
      const pieceText = text.slice(from, start + piece.end);
      units.push({ measured: measureTokens(pieceText), sep: joint, offset: offsetAt(from), kind: 'prose' });
      previousEnd = start + piece.end;
    }
  }
  return units;
}

/** A paragraph's or item's lines as one text, with a map from its indices back to the document. */
function joinLines(lines: Line[]): { text: string; offsetAt: (i: number) => number } {
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

/** A fence over the budget as parts of whole lines, each re-opened and closed: valid Markdown on its own. */
function fenceParts(open: string, body: Line[], close: string, limit: number, minTokens: number): Unit[] {
  const frame = countTokens(`${open}\n${close}`) + 1;
  // A huge info string could leave no room for code: keep only the fence marker then.
  const marker = FENCE.exec(open)?.[2] ?? open;
  if (frame > limit / 2 && open !== marker) return fenceParts(marker, body, close, limit, minTokens);
  const room = Math.max(2, limit - frame);
  const parts: { lines: string[]; tokens: number; offset: number }[] = [];
  const add = (text: string, tokens: number, offset: number) => {
    const last = parts.at(-1);
    if (last && last.tokens + tokens <= room) {
      last.lines.push(text);
      last.tokens += tokens;
    } else parts.push({ lines: [text], tokens, offset });
  };
  for (const line of body) {
    const tokens = countTokens(line.text) + 1;
    if (tokens <= room) add(line.text, tokens, line.offset);
    else {
      for (const p of splitByTokens(line.text, room - 1, true)) {
        parts.push({ lines: [line.text.slice(p.start, p.end)], tokens: p.tokens + 1, offset: line.offset });
      }
    }
  }
  // Avoid a stub at the end: move lines back from the part before while they fit.
  const last = parts.at(-1);
  const before = parts.at(-2);
  while (last && before && last.tokens < minTokens && before.lines.length > 1) {
    const moved = countTokens(before.lines.at(-1)!) + 1;
    if (last.tokens + moved > room) break;
    last.lines.unshift(before.lines.pop()!);
    last.tokens += moved;
    before.tokens -= moved;
  }
  return parts.map((p) => ({
    measured: measureTokens([open, ...p.lines, close].join('\n')),
    sep: '\n\n',
    offset: p.offset,
    kind: 'part' as const,
  }));
}

interface SectionFrame {
  heading: string;
  /** The heading-path line and a blank line, or '' when there is neither title nor heading. */
  prefix: string;
  /** Tokens left for the body after the prefix. */
  budget: number;
}

/** The title leads the path unless the path already starts with it ("# Install Guide" as first heading). */
function sectionFrame(path: string[], title: string, maxTokens: number): SectionFrame {
  const parts = title && title.toLowerCase() !== path[0]?.toLowerCase() ? [title, ...path] : path;
  let line = parts.join(' > ');
  let tokens = countTokens(line ? `${line}\n\n` : '');
  // Absurdly long headings must still leave half the chunk to the body.
  if (tokens > maxTokens / 2) {
    line = truncateToTokens(line, Math.floor(maxTokens / 2) - 2).trimEnd();
    tokens = countTokens(line ? `${line}\n\n` : '');
  }
  return { heading: path.join(' > '), prefix: line ? `${line}\n\n` : '', budget: maxTokens - tokens };
}

interface Section extends SectionFrame {
  units: Unit[];
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

function tableUnits(header: Line[], rows: Line[], sep: string, budget: number): Unit[] {
  const measuredHeader = measureTokens(header.map((l) => tidy(l.text).trim()).join('\n'));
  // A header too big to repeat is kept once, as if it were rows.
  const room = budget - measuredHeader.tokens - 1;
  const table = room >= budget / 4 ? measuredHeader : undefined;
  const lines = table ? rows : [...header, ...rows];
  const units: Unit[] = [];
  const push = (measured: MeasuredText, offset: number) => {
    const unit: Unit = { measured, sep: units.length ? '\n' : sep, offset, kind: 'row' };
    if (table) unit.table = table;
    units.push(unit);
  };
  for (const row of lines) {
    const rowText = tidy(row.text).trim();
    const measured = measureTokens(rowText);
    const limit = table ? room : budget;
    if (measured.tokens <= limit) push(measured, row.offset);
    else
      for (const p of splitOversized(rowText, limit))
        push(measureTokens(rowText.slice(p.start, p.end)), row.offset);
  }
  if (units.length === 0)
    units.push({ measured: measuredHeader, sep, offset: header[0]!.offset, kind: 'row' });
  return units;
}

function listUnits(items: { lines: Line[]; blankBefore: boolean }[], sep: string, budget: number): Unit[] {
  const units: Unit[] = [];
  items.forEach((item, k) => {
    const { text, offsetAt } = joinLines(item.lines);
    const itemSep = k === 0 ? sep : item.blankBefore ? '\n\n' : '\n';
    const measured = measureTokens(text);
    // An item is kept whole when it fits; a huge one is cut between its sentences like a paragraph.
    if (measured.tokens <= budget)
      units.push({ measured, sep: itemSep, offset: item.lines[0]!.offset, kind: 'prose' });
    else for (const unit of proseUnits(text, itemSep, budget, offsetAt)) units.push(unit);
  });
  return units;
}

/** Reads the blocks of the document into sections of units; a heading starts a new section. */
function parseSections(text: string, title: string, options: ChunkOptions): Section[] {
  const lines = splitLines(text);
  const sections: Section[] = [];
  const headings: { level: number; text: string }[] = [];
  let section: Section | undefined;
  let blank = true;
  const add = (make: (sep: string, budget: number) => Unit[]) => {
    let target = section;
    if (!target) {
      const path = headings.map((h) => h.text).filter(Boolean);
      target = section = { ...sectionFrame(path, title, options.maxTokens), units: [] };
      sections.push(target);
    }
    const sep = target.units.length === 0 ? '' : blank ? '\n\n' : '\n';
    for (const unit of make(sep, target.budget)) target.units.push(unit);
    blank = false;
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (BLANK.test(line.text)) {
      blank = true;
      i++;
      continue;
    }
    const fence = fenceOpen(line.text);
    const heading = fence ? null : HEADING.exec(line.text);
    let j = i + 1;
    if (fence) {
      const marker = fence[2]!;
      while (j < lines.length && !isFenceClose(lines[j]!.text, marker)) j++;
      // An unclosed fence runs to the end of the document (as in CommonMark); we close it.
      const close = j < lines.length ? lines[j]!.text.trimEnd() : fence[1]! + marker;
      const open = line.text.trimEnd();
      let bodyEnd = j;
      if (j === lines.length) while (bodyEnd > i + 1 && BLANK.test(lines[bodyEnd - 1]!.text)) bodyEnd--;
      const body = lines.slice(i + 1, bodyEnd);
      add((sep, budget) => {
        const measured = measureTokens([open, ...body.map((l) => l.text), close].join('\n'));
        if (measured.tokens <= budget) return [{ measured, sep, offset: line.offset, kind: 'code' }];
        return fenceParts(open, body, close, budget, options.minTokens);
      });
      j++;
    } else if (heading) {
      const level = heading[1]!.length;
      while (headings.length > 0 && headings.at(-1)!.level >= level) headings.pop();
      headings.push({ level, text: headingText(heading[2] ?? '') });
      section = undefined;
    } else if (RULE.test(line.text)) {
      blank = true;
    } else if (isTableStart(lines, i)) {
      j = i + 2;
      while (
        j < lines.length &&
        !BLANK.test(lines[j]!.text) &&
        lines[j]!.text.includes('|') &&
        !startsBlock(lines, j)
      )
        j++;
      const rows = lines.slice(i + 2, j);
      add((sep, budget) => tableUnits([line, lines[i + 1]!], rows, sep, budget));
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
      add((sep, budget) => listUnits(items, sep, budget));
      blank = sawBlank;
    } else {
      while (
        j < lines.length &&
        !BLANK.test(lines[j]!.text) &&
        !LIST_ITEM.test(lines[j]!.text) &&
        !startsBlock(lines, j)
      )
        j++;
      const { text: paragraph, offsetAt } = joinLines(lines.slice(i, j));
      add((sep, budget) => proseUnits(paragraph, sep, budget, offsetAt));
    }
    i = j;
  }
  return sections;
}

/** Units [from, start) repeat the end of the previous chunk; [start, end) are new. */
interface Range {
  from: number;
  start: number;
  end: number;
}

/** Tokens unit k adds to a chunk whose first unit is `first`: its own, its separator, a table header. */
function cost(units: Unit[], k: number, first: number): number {
  const unit = units[k]!;
  const header =
    unit.table && (k === first || units[k - 1]!.table !== unit.table) ? unit.table.tokens + 1 : 0;
  return unit.measured.tokens + header + (k === first ? 0 : sepTokens(unit.sep));
}

/** Where the overlap of a chunk starting at `start` begins: whole trailing prose units of the previous chunk. */
function overlapStart(units: Unit[], previousStart: number, start: number, overlapTokens: number): number {
  if (overlapTokens <= 0 || units[start]!.kind !== 'prose') return start;
  let from = start;
  let total = 0;
  // `k > previousStart`: never repeat all of the previous chunk.
  for (let k = start - 1; k > previousStart; k--) {
    const unit = units[k]!;
    if (unit.kind !== 'prose') break;
    total += unit.measured.tokens + 1;
    // "About" overlapTokens: a single trailing sentence may run over by half rather than give no overlap.
    if (total > overlapTokens && !(from === start && total <= overlapTokens * 1.5)) break;
    from = k;
    if (total >= overlapTokens) break;
  }
  return from;
}

/** The parts of a chunk's body, in order: units, separators, repeated table headers. */
function bodyParts(units: Unit[], range: Range): (MeasuredText | string)[] {
  const parts: (MeasuredText | string)[] = [];
  for (let k = range.from; k < range.end; k++) {
    const unit = units[k]!;
    if (k > range.from) parts.push(unit.sep);
    if (unit.table && (k === range.from || units[k - 1]!.table !== unit.table)) parts.push(unit.table, '\n');
    parts.push(unit.measured);
  }
  return parts;
}

interface Draft {
  heading: string;
  text: string;
  embedText: string;
  tokenCount: number;
  offset: number;
}

/** Renders a range and counts it exactly; null when it is over the limit. */
function draft(section: Section, units: Unit[], range: Range, maxTokens: number): Draft | null {
  const parts = bodyParts(units, range);
  const joined = parts.map((p) => (typeof p === 'string' ? p : p.text)).join('');
  const text = joined.trim();
  const embedText = section.prefix + text;
  // Counting from the measured units reads only the joins; a trimmed body (an indented first line) is
  // counted in full.
  const tokenCount = text === joined ? countJoined([section.prefix, ...parts]) : countTokens(embedText);
  if (tokenCount > maxTokens) return null;
  return { heading: section.heading, text, embedText, tokenCount, offset: units[range.from]!.offset };
}

/**
 * A unit over the limit on its own once rendered (estimates are sums, and the prefix joins it): cut it
 * to `limit`, and any piece still over to less, until everything fits. The limit falls on every round.
 */
function emitOversized(
  section: Section,
  unit: Unit,
  limit: number,
  options: ChunkOptions,
  out: Draft[],
): void {
  const text = unit.measured.text;
  // Unreachable while maxTokens >= 16: the prefix takes at most half, a character at most 4 tokens.
  if (limit < 1)
    throw new Error(`cannot fit ${JSON.stringify(text.slice(0, 20))} in ${options.maxTokens} tokens`);
  let pieces: Unit[];
  if ((unit.kind === 'code' || unit.kind === 'part') && limit >= 8) {
    const lines = text.split('\n').map((l) => ({ text: l, offset: unit.offset }));
    pieces = fenceParts(lines[0]!.text, lines.slice(1, -1), lines.at(-1)!.text, limit, 0);
  } else {
    const cuts = limit >= 8 ? splitOversized(text, limit) : splitByTokens(text, Math.max(1, limit));
    pieces = cuts.map((p) => ({ ...unit, measured: measureTokens(text.slice(p.start, p.end)) }));
  }
  for (const piece of pieces) {
    const chunk = draft(section, [piece], { from: 0, start: 0, end: 1 }, options.maxTokens);
    if (chunk) out.push(chunk);
    else emitOversized(section, piece, Math.min(limit, piece.measured.tokens) - 1, options, out);
  }
}

/**
 * Greedy packing of a section's units into chunks by estimated tokens, each then rendered and counted
 * exactly; the rare chunk whose exact count is over the limit gives up overlap, then its last unit.
 */
function chunkSection(section: Section, options: ChunkOptions, out: Draft[]): void {
  const { units, budget } = section;
  // rest[k]: tokens from unit k to the end of the section, to see a stub coming.
  const rest: number[] = new Array<number>(units.length + 1).fill(0);
  for (let k = units.length - 1; k >= 0; k--) rest[k] = rest[k + 1]! + units[k]!.measured.tokens;
  let previous: Range | undefined;
  let start = 0;
  while (start < units.length) {
    let from = start;
    let end = start + 1;
    if (units[start]!.kind !== 'part') {
      if (previous?.end === start) from = overlapStart(units, previous.start, start, options.overlapTokens);
      let used = 0;
      for (;;) {
        used = 0;
        for (let k = from; k < start; k++) used += cost(units, k, from);
        for (end = start; end < units.length && units[end]!.kind !== 'part'; end++) {
          const c = cost(units, end, from);
          if (used + c > budget) break;
          used += c;
        }
        if (end > start || from === start) break;
        from++; // the overlap leaves no room for the next unit: shorten it
      }
      end = Math.max(end, start + 1);
      // A stub would end the section: hand it trailing sentences of this chunk instead.
      while (
        end - 1 > start &&
        end < units.length &&
        rest[end]! < options.minTokens &&
        units[end - 1]!.kind === 'prose'
      ) {
        const moved = units[end - 1]!.measured.tokens;
        if (used - moved < options.minTokens || rest[end]! + moved > budget) break;
        if (units.slice(end).some((u) => u.kind === 'part')) break;
        used -= moved;
        end--;
      }
    }
    let chunk = draft(section, units, { from, start, end }, options.maxTokens);
    while (!chunk && (from < start || end - start > 1)) {
      if (from < start) from++;
      else end--;
      chunk = draft(section, units, { from, start, end }, options.maxTokens);
    }
    if (chunk) out.push(chunk);
    else emitOversized(section, units[start]!, units[start]!.measured.tokens - 1, options, out);
    previous = { from, start, end };
    start = end;
  }
}

function resolveOptions(options: Partial<ChunkOptions> | undefined): ChunkOptions {
  const maxTokens = options?.maxTokens ?? defaultChunkOptions.maxTokens;
  const overlapTokens = options?.overlapTokens ?? defaultChunkOptions.overlapTokens;
  const minTokens = options?.minTokens ?? defaultChunkOptions.minTokens;
  if (!Number.isInteger(maxTokens) || maxTokens < 16) {
    throw new RangeError(`maxTokens must be an integer of at least 16, got ${maxTokens}`);
  }
  if (!(overlapTokens >= 0)) throw new RangeError(`overlapTokens must be 0 or more, got ${overlapTokens}`);
  if (!(minTokens >= 0)) throw new RangeError(`minTokens must be 0 or more, got ${minTokens}`);
  // Callers spread the defaults under a smaller maxTokens ({ ...defaultChunkOptions, maxTokens: 100 }):
  // clamp rather than refuse, so that setting maxTokens alone always works.
  return {
    maxTokens,
    overlapTokens: Math.min(overlapTokens, Math.floor(maxTokens / 2)),
    minTokens: Math.min(minTokens, maxTokens),
  };
}

/** 1-based page holding `offset`: the last page starting at or before it. */
function pageAt(pageOffsets: readonly number[], offset: number): number {
  let lo = 0;
  let hi = pageOffsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pageOffsets[mid]! <= offset) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(1, lo);
}

/**
 * Splits a loaded document into chunks of at most `maxTokens` tokens (embedText included), along its
 * headings, blocks and sentences; see the top of this file for the rules. Empty documents give [].
 * Throws RangeError for a maxTokens under 16 or negative options.
 *
 * @example
 * const chunks = chunkDocument({ title: 'Install Guide', text: '# Windows\n\n## Proxy\n\nSet HTTPS_PROXY.' });
 * chunks[0].heading   // 'Windows > Proxy'
 * chunks[0].embedText // 'Install Guide > Windows > Proxy\n\nSet HTTPS_PROXY.'
 */
export function chunkDocument(
  doc: { title: string; text: string; pageOffsets?: number[] },
  options?: Partial<ChunkOptions>,
): DraftChunk[] {
  const resolved = resolveOptions(options);
  const title = doc.title.replace(/\s+/g, ' ').trim();
  const drafts: Draft[] = [];
  for (const section of parseSections(doc.text, title, resolved)) chunkSection(section, resolved, drafts);
  return drafts.map(({ offset, ...draft }, ordinal) => {
    const chunk: DraftChunk = { ordinal, ...draft };
    if (doc.pageOffsets) chunk.page = pageAt(doc.pageOffsets, offset);
    return chunk;
  });
}
