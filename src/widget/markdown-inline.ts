/**
 * Inline Markdown of answers: code spans, bold, italic, links (absolute http, https and mailto only),
 * bare URLs and citation markers `[n]`, parsed into plain data. Block structure is `markdown.ts`'s job.
 */

export type Inline =
  | { type: 'text'; text: string }
  | { type: 'code'; text: string }
  | { type: 'strong'; children: Inline[] }
  | { type: 'em'; children: Inline[] }
  /** `href` has passed `safeHref`. */
  | { type: 'link'; href: string; children: Inline[] }
  /** A citation marker `[index]`, 1-based like `Source.index`. */
  | { type: 'cite'; index: number }
  | { type: 'break' };

const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/**
 * The URL to put in an `href`, or undefined when it is not an absolute http, https or mailto URL.
 * Parsing with `URL` (rather than matching a prefix) sees through the tricks browsers forgive, such as
 * tabs or newlines inside `java\tscript:`, and relative URLs are refused because the widget lives on
 * someone else's page.
 *
 * @example
 * safeHref('https://example.com/a b'); // 'https://example.com/a%20b'
 * safeHref('javascript:alert(1)'); // undefined
 */
export function safeHref(raw: string): string | undefined {
  try {
    const url = new URL(raw.trim());
    return LINK_PROTOCOLS.has(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

interface InlineOptions {
  /** False inside a link's text: no nested links or citations (interactive elements must not nest). */
  interactive: boolean;
}

const ESCAPABLE = /[!-/:-@[-`{-~]/;
const CITATION = /\[(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\]/y;
/** ASCII only: a bare URL ends where Chinese text (or full-width punctuation) resumes without a space. */
const BARE_URL = /https?:\/\/[^\s<>"'`\u0080-\uffff]+/y;
const AUTOLINK = /<((?:https?|mailto):[^\s<>]+)>/y;
/**
 * A bare URL without the sentence punctuation after it; a closing parenthesis stays when it closes one
 * opened inside the URL (`https://en.wikipedia.org/wiki/Rust_(language)`).
 */
function trimUrl(url: string): string {
  let end = url.length;
  for (;;) {
    const last = url[end - 1];
    const opened = url.slice(0, end).split('(').length;
    const closed = url.slice(0, end).split(')').length;
    if (last !== undefined && /[.,;:!?\]}'"]/.test(last)) end--;
    else if (last === ')' && closed > opened) end--;
    else return url.slice(0, end);
  }
}

/** The position of the `)` closing a link destination that starts at `from`, allowing balanced parentheses. */
function closingParen(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') i++;
    else if (ch === '(') depth++;
    else if (ch === ')') {
      if (depth === 0) return i;
      depth--;
    } else if (ch === '\n') return -1;
  }
  return -1;
}

/** The `]` closing a link text that starts at `from` (after `[`), allowing nested brackets. */
function closingBracket(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') i++;
    else if (ch === '[') depth++;
    else if (ch === ']') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

/** `[text](destination "title")` starting at `at`: the parts and the index after it, or undefined. */
function linkAt(text: string, at: number): { label: string; destination: string; end: number } | undefined {
  const close = closingBracket(text, at + 1);
  if (close === -1 || text[close + 1] !== '(') return undefined;
  const end = closingParen(text, close + 2);
  if (end === -1) return undefined;
  const inside = text.slice(close + 2, end).trim();
  // A title after the destination is allowed and dropped.
  const destination = inside.replace(/\s+(?:"[^"]*"|'[^']*')$/, '').replace(/^<(.*)>$/, '$1');
  return { label: text.slice(at + 1, close), destination, end: end + 1 };
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * Where the delimiter `marker` closes an emphasis opened before `from`, or -1. A closing delimiter
 * follows text, not a space, and is not escaped; an underscore one must also end a word, so the
 * underscores inside `snake__case` or `window.__name` never close anything.
 */
function closingDelimiter(text: string, marker: string, from: number): number {
  for (let i = text.indexOf(marker, from); i !== -1; i = text.indexOf(marker, i + 1)) {
    if (i === from || /\s/.test(text[i - 1] ?? '') || text[i - 1] === '\\') continue;
    if (marker[0] === '_' && WORD_CHAR.test(text[i + marker.length] ?? '')) continue;
    return i;
  }
  return -1;
}

/**
 * Parses inline Markdown into nodes.
 *
 * @example
 * parseInline('Run `npm start` [1]');
 * // [{ type: 'text', text: 'Run ' }, { type: 'code', text: 'npm start' }, { type: 'text', text: ' ' }, { type: 'cite', index: 1 }]
 */
export function parseInline(text: string, options: InlineOptions = { interactive: true }): Inline[] {
  const out: Inline[] = [];
  let plain = '';
  const flush = (): void => {
    if (plain) out.push({ type: 'text', text: plain });
    plain = '';
  };
  const push = (node: Inline): void => {
    flush();
    out.push(node);
  };

  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];

    if (ch === '\\' && next !== undefined && ESCAPABLE.test(next)) {
      plain += next;
      i += 2;
      continue;
    }
    if (ch === '\n') {
      push({ type: 'break' });
      i += 1;
      continue;
    }
    if (ch === '`') {
      const run = /`+/y;
      run.lastIndex = i;
      const ticks = run.exec(text)![0];
      const close = text.indexOf(ticks, i + ticks.length);
      if (close !== -1) {
        const code = text.slice(i + ticks.length, close);
        // One space padding on both sides is removed, so `` `x` `` can hold a backtick.
        push({ type: 'code', text: /^ .* $/.test(code) && code.trim() ? code.slice(1, -1) : code });
        i = close + ticks.length;
        continue;
      }
      plain += ticks;
      i += ticks.length;
      continue;
    }
    // Underscores open emphasis only where a word starts (not in `snake__case` or `window.__name`).
    if ((ch === '*' || (ch === '_' && /^$|[\s([{"'“‘]/u.test(text[i - 1] ?? ''))) && next === ch) {
      const marker = ch + ch;
      const close = closingDelimiter(text, marker, i + 2);
      if (close !== -1 && !/\s/.test(text[i + 2] ?? ' ')) {
        push({ type: 'strong', children: parseInline(text.slice(i + 2, close), options) });
        i = close + 2;
        continue;
      }
    } else if (ch === '*') {
      const close = closingDelimiter(text, '*', i + 1);
      if (close !== -1 && !/\s/.test(next ?? ' ') && text[close + 1] !== '*') {
        push({ type: 'em', children: parseInline(text.slice(i + 1, close), options) });
        i = close + 1;
        continue;
      }
    }
    if (ch === '[' && options.interactive) {
      CITATION.lastIndex = i;
      const citation = CITATION.exec(text);
      // `[1](url)` is a link whose text is a number, not a citation.
      if (citation && text[CITATION.lastIndex] !== '(') {
        for (const n of citation[1]!.split(/[,，]/)) push({ type: 'cite', index: Number(n.trim()) });
        i = CITATION.lastIndex;
        continue;
      }
      const link = linkAt(text, i);
      if (link) {
        const href = safeHref(link.destination);
        const children = parseInline(link.label, { interactive: false });
        // An unsafe link keeps its text and loses its destination.
        if (href) push({ type: 'link', href, children });
        else {
          flush();
          out.push(...children);
        }
        i = link.end;
        continue;
      }
    }
    if (ch === '<' && options.interactive) {
      AUTOLINK.lastIndex = i;
      const auto = AUTOLINK.exec(text);
      const href = auto ? safeHref(auto[1]!) : undefined;
      if (auto && href) {
        push({ type: 'link', href, children: [{ type: 'text', text: auto[1]! }] });
        i = AUTOLINK.lastIndex;
        continue;
      }
    }
    // Not inside an ASCII word (`xhttp://`); right after Chinese text is fine, Chinese uses no spaces.
    if (ch === 'h' && options.interactive && !/[A-Za-z0-9]/.test(text[i - 1] ?? ' ')) {
      BARE_URL.lastIndex = i;
      const bare = BARE_URL.exec(text);
      if (bare) {
        const url = trimUrl(bare[0]);
        const href = safeHref(url);
        if (href && url.length > 'https://'.length) {
          push({ type: 'link', href, children: [{ type: 'text', text: url }] });
          i += url.length;
          continue;
        }
      }
    }
    plain += ch;
    i += 1;
  }
  flush();
  return out;
}
