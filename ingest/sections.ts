/**
 * A document as the chunker packs it: sections (the text under one heading path) of units, the pieces
 * packing never splits. Pure.
 *
 * Units are a paragraph's or list item's sentences (a list item that fits stays whole), table rows
 * (with the table's header rows, repeated in every chunk holding its rows), and code fences (a fence over
 * the budget is cut into parts of whole lines, each re-opened and closed). Anything still over the budget
 * is cut at clauses, words or tokens (src/text/sentences.ts), so that every unit fits its section's
 * budget on its own.
 */
import { measureTokens, countTokens, truncateToTokens, type MeasuredText } from '../src/text/tokens.ts';
import { sentenceSpans, splitAtTokens, splitToFit } from '../src/text/sentences.ts';
import {
  fenceMarker,
  readMarkdownBlocks,
  type Line,
  type ListItem,
  type MarkdownBlock,
} from './markdown-blocks.ts';

/**
 * A piece of a section that packing never splits.
 *
 * @example
 * const unit: Unit = { measured: measureTokens('Set HTTPS_PROXY.'), sep: '\n\n', offset: 120, kind: 'prose' };
 */
export interface Unit {
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

/**
 * The text under one heading path, as units, with what every chunk of it starts with.
 *
 * @example
 * const section: Section = { heading: 'Proxy', prefix: 'Guide > Proxy\n\n', budget: 396, units: [] };
 */
export interface Section {
  /** The heading path joined with ' > ' ('' before the first heading). */
  heading: string;
  /** The heading-path line and a blank line, or '' when there is neither title nor heading. */
  prefix: string;
  /** Tokens left for the body after the prefix. */
  budget: number;
  units: Unit[];
}

/** The title leads the path unless the path already starts with it ("# Install Guide" as first heading). */
function sectionFrame(path: string[], title: string, maxTokens: number): Omit<Section, 'units'> {
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

function gapSep(gap: string): string {
  return gap.includes('\n') ? '\n' : gap.length > 0 ? ' ' : '';
}

/** Sentences of a paragraph or list item as units; `offsetAt` maps an index in `text` to the document. */
function proseUnits(text: string, sep: string, limit: number, offsetAt: (i: number) => number): Unit[] {
  const units: Unit[] = [];
  let previousEnd = -1;
  for (const [start, end] of sentenceSpans(text)) {
    const sentence = text.slice(start, end);
    const measured = measureTokens(sentence);
    if (measured.tokens <= limit) {
      const joint = previousEnd < 0 ? sep : gapSep(text.slice(previousEnd, start));
      units.push({ measured, sep: joint, offset: offsetAt(start), kind: 'prose' });
      previousEnd = end;
      continue;
    }
    for (const piece of splitToFit(sentence, limit)) {
      const from = start + piece.start;
      const joint = previousEnd < 0 ? sep : gapSep(text.slice(previousEnd, from));
      const pieceText = text.slice(from, start + piece.end);
      units.push({ measured: measureTokens(pieceText), sep: joint, offset: offsetAt(from), kind: 'prose' });
      previousEnd = start + piece.end;
    }
  }
  return units;
}

/**
 * A fence over the budget as parts of whole lines, each re-opened with `open` and closed with `close`:
 * valid Markdown on its own. A line over the budget alone is cut at token boundaries; the last part takes
 * lines from the one before while it is under `minTokens`. Every part is a unit of kind 'part'.
 *
 * @example
 * const body = Array.from({ length: 200 }, (_, i) => ({ text: `line ${i}`, offset: 0 }));
 * fenceParts('```', body, '```', 100, 10).every((u) => u.measured.text.startsWith('```\n')) // true
 */
export function fenceParts(
  open: string,
  body: Line[],
  close: string,
  limit: number,
  minTokens: number,
): Unit[] {
  const frame = countTokens(`${open}\n${close}`) + 1;
  // A huge info string could leave no room for code: keep only the fence marker then.
  const marker = fenceMarker(open);
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
      for (const p of splitAtTokens(line.text, room - 1, true)) {
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

/** Rows as units, each carrying the header rows to repeat; `header` and `rows` are tidied lines. */
function tableUnits(header: Line[], rows: Line[], sep: string, budget: number): Unit[] {
  const measuredHeader = measureTokens(header.map((l) => l.text).join('\n'));
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
    const measured = measureTokens(row.text);
    const limit = table ? room : budget;
    if (measured.tokens <= limit) push(measured, row.offset);
    else
      for (const p of splitToFit(row.text, limit))
        push(measureTokens(row.text.slice(p.start, p.end)), row.offset);
  }
  if (units.length === 0)
    units.push({ measured: measuredHeader, sep, offset: header[0]!.offset, kind: 'row' });
  return units;
}

function listUnits(items: ListItem[], sep: string, budget: number): Unit[] {
  const units: Unit[] = [];
  items.forEach((item, k) => {
    const itemSep = k === 0 ? sep : item.blankBefore ? '\n\n' : '\n';
    const measured = measureTokens(item.text);
    // An item is kept whole when it fits; a huge one is cut between its sentences like a paragraph.
    if (measured.tokens <= budget) units.push({ measured, sep: itemSep, offset: item.offset, kind: 'prose' });
    else for (const unit of proseUnits(item.text, itemSep, budget, item.offsetAt)) units.push(unit);
  });
  return units;
}

/** The units of one content block, the first joined to what comes before it by `sep`. */
function blockUnits(
  block: Exclude<MarkdownBlock, { kind: 'heading' }>,
  sep: string,
  budget: number,
  minTokens: number,
): Unit[] {
  switch (block.kind) {
    case 'fence': {
      const { open, body, close } = block;
      const measured = measureTokens([open, ...body.map((l) => l.text), close].join('\n'));
      if (measured.tokens <= budget) return [{ measured, sep, offset: block.offset, kind: 'code' }];
      return fenceParts(open, body, close, budget, minTokens);
    }
    case 'table':
      return tableUnits(block.header, block.rows, sep, budget);
    case 'list':
      return listUnits(block.items, sep, budget);
    case 'paragraph':
      return proseUnits(block.text, sep, budget, block.offsetAt);
  }
}

/**
 * A document of headings only ('# Release notes'): its heading texts, one a line, are its only section,
 * under no heading path (the headings are the body, not where it sits), the title leading the prefix
 * unless it is the first heading. A heading is text a reader may search for; no heading text gives none.
 */
function headingsOnlySection(
  headings: Extract<MarkdownBlock, { kind: 'heading' }>[],
  title: string,
  limits: { maxTokens: number },
): Section[] {
  const named = headings.filter((h) => h.text !== '');
  const first = named[0];
  if (!first) return [];
  const sameAsTitle = title.toLowerCase() === first.text.toLowerCase();
  const section: Section = { ...sectionFrame([], sameAsTitle ? '' : title, limits.maxTokens), units: [] };
  named.forEach((h, k) => {
    const sep = k === 0 ? '' : '\n';
    for (const unit of proseUnits(h.text, sep, section.budget, () => h.offset)) section.units.push(unit);
  });
  return [section];
}

/**
 * Reads a document into sections of units; a heading starts a new section, and a heading with no content
 * under it gives none, unless the document has nothing but headings (see headingsOnlySection). Every
 * section's prefix leaves it a budget of at least half of `maxTokens`.
 *
 * @example
 * const [section] = splitIntoSections('# Proxy\n\nSet HTTPS_PROXY.', 'Install Guide', { maxTokens: 400, minTokens: 40 });
 * section.prefix       // 'Install Guide > Proxy\n\n'
 * section.units.length // 1
 */
export function splitIntoSections(
  text: string,
  title: string,
  limits: { maxTokens: number; minTokens: number },
): Section[] {
  const sections: Section[] = [];
  let path: string[] = [];
  let section: Section | undefined;
  const headings: Extract<MarkdownBlock, { kind: 'heading' }>[] = [];
  for (const block of readMarkdownBlocks(text)) {
    if (block.kind === 'heading') {
      if (sections.length === 0) headings.push(block);
      path = block.path;
      section = undefined;
      continue;
    }
    if (!section) {
      section = { ...sectionFrame(path, title, limits.maxTokens), units: [] };
      sections.push(section);
    }
    const sep = section.units.length === 0 ? '' : block.blankBefore ? '\n\n' : '\n';
    for (const unit of blockUnits(block, sep, section.budget, limits.minTokens)) section.units.push(unit);
  }
  return sections.length > 0 ? sections : headingsOnlySection(headings, title, limits);
}
