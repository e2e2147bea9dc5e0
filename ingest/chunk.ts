/**
 * The chunker: Markdown-flavoured text in, chunks that fit the embedder's token budget out. Pure.
 *
 * How a document is cut, in order of preference:
 * 1. along headings (ATX `#`..`######` and setext `===`/`---` underlines, never inside code fences): a
 *    chunk never spans two sections, and its embedText starts with the section's heading path
 *    ("Install Guide > Windows > Proxy"); a document of headings only is one section of its headings;
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
 * Where each step lives: markdown-blocks.ts reads the blocks, sections.ts turns them into sections of
 * units (1 to 3), src/text/sentences.ts cuts sentences; this file packs units into chunks, with overlap.
 *
 * Cost: every sentence (or list item, row, fence) is measured once; a chunk's exact token count is then
 * made from its units' counts, reading only the text around their joins (countJoined). Linear in the
 * document; no text is re-counted as a chunk grows.
 */
import { splitAtTokens, splitToFit } from '../src/text/sentences.ts';
import { countJoined, countTokens, measureTokens, type MeasuredText } from '../src/text/tokens.ts';
import { fenceParts, splitIntoSections, type Section, type Unit } from './sections.ts';

/**
 * How chunkDocument sizes chunks; every field is optional there and defaults to defaultChunkOptions.
 *
 * @example
 * const options: ChunkOptions = { ...defaultChunkOptions, maxTokens: 200 };
 */
export interface ChunkOptions {
  /** Most o200k_base tokens in a chunk's embedText, heading prefix included; a hard limit. Default 400, at least 16. */
  maxTokens: number;
  /** Tokens of whole sentences a chunk repeats from the previous one in its section. Default 60 (15%); 0 disables; at most half of maxTokens (larger values are clamped). */
  overlapTokens: number;
  /** A section's last chunk below this takes sentences from the one before it. Default 40. */
  minTokens: number;
}

/**
 * 400-token chunks with 60 tokens (15%) of overlap, no trailing piece under 40 tokens where avoidable.
 *
 * @example
 * chunkDocument(doc, { ...defaultChunkOptions, overlapTokens: 0 }) // no overlap, other defaults kept
 */
export const defaultChunkOptions: ChunkOptions = Object.freeze({
  maxTokens: 400,
  overlapTokens: 60,
  minTokens: 40,
});

/**
 * A chunk of a document, before it is embedded and stored.
 *
 * @example
 * const [chunk]: DraftChunk[] = chunkDocument({ title: 'FAQ', text: 'Short answer.' });
 * chunk // { ordinal: 0, heading: '', text: 'Short answer.', embedText: 'FAQ\n\nShort answer.', tokenCount: 5 }
 */
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

/** A separator between units costs one token at most: '\n', '\n\n' and ' ' each are one token. */
function sepTokens(sep: string): number {
  return sep === '' ? 0 : 1;
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
    const cuts = limit >= 8 ? splitToFit(text, limit) : splitAtTokens(text, Math.max(1, limit));
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
 * headings, blocks and sentences; see the top of this file for the rules. Documents with no text give []
 * (a heading's text counts: '# Release notes' alone gives one chunk, 'Release notes').
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
  for (const section of splitIntoSections(doc.text, title, resolved)) chunkSection(section, resolved, drafts);
  return drafts.map(({ offset, ...draft }, ordinal) => {
    const chunk: DraftChunk = { ordinal, ...draft };
    if (doc.pageOffsets) chunk.page = pageAt(doc.pageOffsets, offset);
    return chunk;
  });
}
