/**
 * Citation markers in a model's answer must name a source actually given, in the one form clients link:
 * `[n]` or `[n, m]`. Models also write `[ 9 ]`, `［9］`, `【9】` (common from Chinese models), full-width
 * digits, `[1、2]` and ranges `[1-3]`; all are recognised, numbers outside 1..sourceCount are dropped, a
 * range keeps its in-range numbers (`[1-9]` with 3 sources is `[1, 2, 3]`), and a marker left empty is
 * removed without gluing its neighbours together. Adjacent markers (`[9][1]`) are judged as one group.
 *
 * Not citations, left alone: links `[1](url)`, anything inside a code fence or an `inline code` span.
 * An inline span ends at the end of its line, so a stray backtick disables the check for one line only.
 *
 * One left-to-right scanner serves both the whole answer and the stream: it stops where the text so far
 * cannot decide (a possible marker, backtick run or fence line at the end) and the stream holds that tail
 * back, so a streamed answer is always equal to the cleaned whole answer.
 */

const DIGITS = '0-9０-９';
const LIST = ',，、;；';
const DASH = '\\-–—~～－';
const GAP = '[ \\t\\u3000]*';
const NUMBER = `[${DIGITS}]{1,6}`;
const INNER = `${GAP}${NUMBER}(?:${GAP}[${LIST}${DASH}]${GAP}${NUMBER})*${GAP}`;
const INNER_CHAR = `[${DIGITS} \\t\\u3000${LIST}${DASH}]`;
/** Bounds a marker's inside so that a streamed possible marker is held back by at most this much. */
const LONGEST_INNER = 40;
const BOUNDED = `(?=${INNER_CHAR}{1,${LONGEST_INNER}}[\\]］】])`;
/** `[1](url)` is a link whose text is a number, not a citation. */
const MARKER = `(?:\\[${BOUNDED}${INNER}\\]|［${BOUNDED}${INNER}］|【${BOUNDED}${INNER}】)(?!\\()`;
const GROUP = new RegExp(`([ \\t]*)(${MARKER}(?:[ \\t]*${MARKER})*)([ \\t]*)`, 'y');
const MARKER_IN_GROUP = new RegExp(`([ \\t]*)(${MARKER})`, 'g');
const PARTIAL_GROUP = new RegExp(`[ \\t]*(?:[\\[［【]${INNER_CHAR}{0,${LONGEST_INNER}})?$`, 'y');
const PARTIAL_MARKER = new RegExp(`[\\[［【]${INNER_CHAR}{0,${LONGEST_INNER}}$`, 'y');
/** Where plain text stops: a possible group, code span or line start. */
const SPECIAL = /[ \t\n`[［【]/g;

const FENCE_OPEN = /[ \t]*(`{3,}|~{3,})/y;
const FENCE_CLOSE = /[ \t]*(`+|~+)[ \t]*(?=\r?\n|$)/y;
/** A line start that may still become a fence opener or closer. */
const PARTIAL_FENCE = /[ \t]*(?:`+|~+)?[ \t\r]*$/y;
const BACKTICKS = /`+/y;
const MARKER_TOKEN = new RegExp(`\\d+|[${DASH}]|[${LIST}]`, 'g');
const IS_DASH = new RegExp(`[${DASH}]`);

/** After these a removed marker leaves no space: `file [7], see` becomes `file, see`. */
const CLOSING = /[.,;:!?)\]}…。，、；：！？）」』】〕〉》”’%]/;
/** Closing only when they hug the marker: `**yes [9]**`, but `see [9] *this*`. */
const HUGGING = /[*_"'~]/;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u3000-\u303f\uff00-\uffef]/u;
const WORD = /[\p{L}\p{N}]/u;

interface ScanState {
  sourceCount: number;
  /** The last character consumed; '' before the first. */
  prev: string;
  /** Inside code: the run that closes it (a fence's run closes it when at least as long). */
  code?: { fence: boolean; run: string };
}

interface Step {
  out: string;
  end: number;
}

function matchAt(regex: RegExp, text: string, at: number): RegExpExecArray | null {
  regex.lastIndex = at;
  return regex.exec(text);
}

/** The numbers a marker names, in order; a range contributes only its part within 1..sourceCount. */
function markerNumbers(marker: string, sourceCount: number): number[] {
  const inner = marker.slice(1, -1).replace(/[０-９]/g, (d) => String(d.charCodeAt(0) - 0xff10));
  const numbers: number[] = [];
  let range = false;
  for (const token of inner.match(MARKER_TOKEN) ?? []) {
    if (!/\d/.test(token)) {
      range = IS_DASH.test(token);
      continue;
    }
    const n = Number(token);
    if (!range) {
      numbers.push(n);
      continue;
    }
    // Clipped before expanding, so `[1-100000]` costs no more than the sources there are.
    const from = numbers.pop() ?? n;
    const [low, high] = from <= n ? [from, n] : [n, from];
    for (let k = Math.max(low, 1); k <= Math.min(high, sourceCount); k++) numbers.push(k);
    range = false;
  }
  return numbers.filter((n) => n >= 1 && n <= sourceCount);
}

/** What replaces a group whose markers were all removed, between `prev` and `next` ('' at the end). */
function gapAfterRemoval(lead: string, trail: string, prev: string, next: string): string {
  if (next === '' || next === '\n' || next === '\r' || CLOSING.test(next)) return '';
  if (!trail && HUGGING.test(next)) return '';
  if (prev === '' || prev === '\n') return lead; // keep the line's indentation, drop the marker's space
  if (/\s/.test(prev) || CJK.test(prev) || CJK.test(next)) return '';
  if (lead || trail) return ' ';
  return WORD.test(prev) && WORD.test(next) ? ' ' : ''; // `word[9]next` must not become `wordnext`
}

function rewriteGroup(group: RegExpExecArray, prev: string, next: string, sourceCount: number): string {
  const [, lead = '', markers = '', trail = ''] = group;
  const seen = new Set<number>();
  let out = '';
  let spaced = false;
  for (const [, space = '', marker = ''] of markers.matchAll(MARKER_IN_GROUP)) {
    spaced ||= space.length > 0;
    const numbers = markerNumbers(marker, sourceCount).filter((n) => !seen.has(n) && seen.add(n));
    if (numbers.length === 0) continue;
    const lineStart = prev === '' || prev === '\n';
    out += out ? (spaced ? ' ' : '') : lead || (spaced && !lineStart ? ' ' : '');
    out += `[${numbers.join(', ')}]`;
    spaced = false;
  }
  return out ? out + trail : gapAfterRemoval(lead, trail, prev, next);
}

/** Inside a fence: whole lines pass through; a line of the fence's character, long enough, closes it. */
function fenceStep(text: string, i: number, state: ScanState, final: boolean): Step | undefined {
  const fence = state.code!.run;
  if (state.prev === '' || state.prev === '\n') {
    if (!final && matchAt(PARTIAL_FENCE, text, i)) return undefined;
    const close = matchAt(FENCE_CLOSE, text, i);
    if (close && close[1]![0] === fence[0] && close[1]!.length >= fence.length) {
      state.code = undefined;
      return { out: close[0], end: i + close[0].length };
    }
  }
  const newline = text.indexOf('\n', i);
  const end = newline === -1 ? text.length : newline + 1;
  return { out: text.slice(i, end), end };
}

/** Inside `code`: passes through until the same run of backticks, or the end of the line. */
function inlineStep(text: string, i: number, state: ScanState, final: boolean): Step | undefined {
  if (text[i] === '\n') {
    state.code = undefined;
    return { out: '\n', end: i + 1 };
  }
  if (text[i] === '`') {
    const run = matchAt(BACKTICKS, text, i)![0];
    if (!final && i + run.length === text.length) return undefined;
    if (run === state.code!.run) state.code = undefined;
    return { out: run, end: i + run.length };
  }
  const stop = text.slice(i).search(/[`\n]/);
  const end = stop === -1 ? text.length : i + stop;
  return { out: text.slice(i, end), end };
}

function textStep(text: string, i: number, state: ScanState, final: boolean): Step | undefined {
  if (state.prev === '' || state.prev === '\n') {
    if (!final && matchAt(PARTIAL_FENCE, text, i)) return undefined;
    const open = matchAt(FENCE_OPEN, text, i);
    if (open) {
      state.code = { fence: true, run: open[1]! };
      return { out: open[0], end: i + open[0].length };
    }
  }
  const c = text[i];
  if (c === '`') {
    const run = matchAt(BACKTICKS, text, i)![0];
    if (!final && i + run.length === text.length) return undefined;
    state.code = { fence: false, run };
    return { out: run, end: i + run.length };
  }
  if (c === ' ' || c === '\t' || c === '[' || c === '［' || c === '【') {
    const group = matchAt(GROUP, text, i);
    if (group) {
      const end = i + group[0].length;
      // The group may still grow (`[1] [` + `2]`), or be followed by `(` that makes it a link.
      if (!final && (end === text.length || matchAt(PARTIAL_MARKER, text, end))) return undefined;
      return { out: rewriteGroup(group, state.prev, text[end] ?? '', state.sourceCount), end };
    }
    if (!final && matchAt(PARTIAL_GROUP, text, i)) return undefined;
  }
  if (c === '\n') return { out: c, end: i + 1 }; // the next line's start may open a fence
  SPECIAL.lastIndex = i + 1;
  const end = SPECIAL.exec(text)?.index ?? text.length;
  return { out: text.slice(i, end), end };
}

/** Consumes `text` from the start as far as it can decide; `used` tells how far that was. */
function scan(text: string, state: ScanState, final: boolean): { out: string; used: number } {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const step = state.code
      ? (state.code.fence ? fenceStep : inlineStep)(text, i, state, final)
      : textStep(text, i, state, final);
    if (!step) break;
    out += step.out;
    state.prev = text[step.end - 1]!;
    i = step.end;
  }
  return { out, used: i };
}

/**
 * Removes citation markers that name no source and writes the rest as `[n]` / `[n, m]`.
 *
 * @example
 * cleanCitations('Yes [1] and no [9].', 2) // 'Yes [1] and no.'
 * cleanCitations('见【2】和［1-9］。', 3) // '见[2]和[1, 2, 3]。'
 */
export function cleanCitations(text: string, sourceCount: number): string {
  return scan(text, { sourceCount, prev: '' }, true).out;
}

export interface CitationFilter {
  /** Takes the next piece of a streamed answer; returns the text that is safe to send now. */
  push(piece: string): string;
  /** Returns whatever was held back at the end of the stream. */
  flush(): string;
}

/**
 * `cleanCitations` for a stream: a marker split across pieces (`"see [1"`, `"2]"`, `"【"`, `"9】"`) is held
 * back until it is complete, so a client never shows a marker that is removed later, and the pieces joined
 * equal `cleanCitations` of the whole answer. What is held is short: a possible marker (at most about 40
 * characters), a run of spaces or backticks, or a line start that may open or close a code fence.
 *
 * @example
 * const filter = createCitationFilter(3);
 * filter.push('Yes [') + filter.push('9] ok') + filter.flush() // 'Yes ok'
 */
export function createCitationFilter(sourceCount: number): CitationFilter {
  const state: ScanState = { sourceCount, prev: '' };
  let pending = '';
  return {
    push(piece) {
      const text = pending + piece;
      const { out, used } = scan(text, state, false);
      pending = text.slice(used);
      return out;
    },
    flush() {
      const { out } = scan(pending, state, true);
      pending = '';
      return out;
    },
  };
}
