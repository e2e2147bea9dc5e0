import { parse as parseYaml } from 'yaml';
import { readMarkdownBlocks } from '../markdown-blocks.ts';
import type { LoadedDocument, Loader } from './loader.ts';
import { decodeText } from './text.ts';

/**
 * Loads a `.md`/`.markdown` file. The text keeps Markdown's structure (headings, lists, tables, code fences)
 * and drops what a reader of the rendered page would not see or what only adds noise to chunks: front
 * matter, HTML/Vue component tags (their inner text stays), `<script>`/`<style>` blocks, comments, link
 * URLs and images, heading anchors (`{#id}`) and VitePress container fences (`::: tip`, whose title stays).
 * Code fences are never altered.
 *
 * The title is the front-matter `title`, else the first level-1 heading (`# Title`, or `Title` over a `===`
 * line), else ''. Scalar front-matter fields go to `metadata`; front matter that is not valid YAML is
 * dropped without failing the file.
 *
 * @example
 * const doc = await loadMarkdown(new TextEncoder().encode('---\ntitle: Intro\n---\n# Hello'), { path: 'a.md' });
 * doc.title; // 'Intro'
 */
export const loadMarkdown: Loader = async (bytes) => markdownDocument(bytes, false);

/**
 * Loads an `.mdx` file like `loadMarkdown`, and also removes top-level `import`/`export` blocks and
 * `{/* comments *\/}`. JSX tags are dropped with their attributes; their inner text stays.
 *
 * @example
 * const src = 'import X from "./x"\n\n<Note kind="tip">Be kind</Note>';
 * (await loadMdx(new TextEncoder().encode(src), { path: 'a.mdx' })).text; // 'Be kind'
 */
export const loadMdx: Loader = async (bytes) => markdownDocument(bytes, true);

function markdownDocument(bytes: Uint8Array, mdx: boolean): LoadedDocument {
  const { text: source, encoding } = decodeText(bytes);
  const { frontMatter, body } = splitFrontMatter(source);
  const metadata: LoadedDocument['metadata'] = {};
  for (const [key, value] of Object.entries(frontMatter)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      metadata[key] = value;
  }
  if (encoding !== 'utf-8') metadata.encoding = encoding;

  const text = cleanMarkdown(body, mdx);
  const fmTitle = frontMatter.title;
  const title =
    typeof fmTitle === 'string' || typeof fmTitle === 'number' ? String(fmTitle).trim() : firstHeading(text);
  return { title, text, metadata };
}

/** Front matter is a YAML block between `---` lines at the very start of the file. */
function splitFrontMatter(source: string): { frontMatter: Record<string, unknown>; body: string } {
  const match = /^---[ \t]*\n([\s\S]*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)/.exec(source);
  if (!match) return { frontMatter: {}, body: source };
  const body = source.slice(match[0].length);
  try {
    // logLevel 'silent': loaders never write to the console, even for YAML warnings.
    const parsed: unknown = parseYaml(match[1] ?? '', { logLevel: 'silent' });
    const isRecord = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    return { frontMatter: isRecord ? (parsed as Record<string, unknown>) : {}, body };
  } catch {
    return { frontMatter: {}, body };
  }
}

interface Segment {
  code: boolean;
  text: string;
}

/** Splits Markdown into fenced code blocks (kept verbatim) and the prose between them. */
function splitFences(markdown: string): Segment[] {
  const segments: Segment[] = [];
  let prose: string[] = [];
  let code: string[] = [];
  let fence: { char: string; length: number } | undefined;
  for (const line of markdown.split('\n')) {
    if (fence) {
      code.push(line);
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(line)?.[1];
      if (close && close[0] === fence.char && close.length >= fence.length) {
        segments.push({ code: true, text: code.join('\n') });
        code = [];
        fence = undefined;
      }
      continue;
    }
    const open = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (open) {
      segments.push({ code: false, text: prose.join('\n') });
      prose = [];
      fence = { char: open[0] ?? '`', length: open.length };
      code.push(line);
    } else {
      prose.push(line);
    }
  }
  // An unclosed fence runs to the end of the file, as CommonMark renders it.
  if (fence) segments.push({ code: true, text: code.join('\n') });
  segments.push({ code: false, text: prose.join('\n') });
  return segments;
}

// One level of nested braces covers JSX attribute values such as style={{ color: 'red' }}.
const ATTRIBUTES = String.raw`(?:\s(?:"[^"]*"|'[^']*'|\{(?:[^{}]|\{[^{}]*\})*\}|[^<>"'{}])*)?`;
const TAG = new RegExp(String.raw`<\/?[A-Za-z][\w.:-]*${ATTRIBUTES}\/?>`, 'g');
const SCRIPT_OR_STYLE = new RegExp(String.raw`<(script|style)\b${ATTRIBUTES}>[\s\S]*?<\/\1\s*>`, 'gi');
// An ESM block runs from an import/export line to the next blank line (how MDX itself delimits it).
const ESM_BLOCK =
  /^(?:import\s+(?:[\w*{}\s,$]+\s+from\s+)?['"]|export\s+(?:default|const|let|var|function|async|class|\{|\*))[\s\S]*?(?=\n[ \t]*\n|(?![\s\S]))/gm;
const LINK =
  /(!?)\[((?:[^[\]]|\[[^[\]]*\])*)\]\(\s*(?:<[^<>]*>|(?:[^()\s]|\([^()\s]*\))*)(?:\s+(?:"[^"]*"|'[^']*'|\([^()]*\)))?\s*\)/g;

function cleanProse(prose: string, mdx: boolean): string {
  // Inline code spans are set aside so that tags and links written inside them survive verbatim.
  const spans: string[] = [];
  let text = prose.replace(/(`+)(?!`)((?:(?!\n[ \t]*\n)[\s\S])*?[^`])\1(?!`)/g, (span) => {
    spans.push(span);
    return `\u0000${spans.length - 1}\u0000`;
  });
  text = text.replace(/<!--[\s\S]*?(?:-->|(?![\s\S]))/g, '').replace(SCRIPT_OR_STYLE, '');
  if (mdx) text = text.replace(/\{\/\*[\s\S]*?\*\/\}/g, '').replace(ESM_BLOCK, '');
  text = text
    // `::: tip Title` opens a VitePress container: keep its title as a line, drop the fences.
    .replace(/^[ \t]*:{3,}[ \t]*(?:[\w-]+)?[ \t]*(.*)$/gm, (_line, title: string) => title.trim())
    .replace(/^[ \t]*\[\[toc\]\][ \t]*$/gim, '')
    .replace(/^([ \t]*#{1,6}[ \t].*?)[ \t]*\{#[^}]*\}[ \t]*$/gm, '$1')
    .replace(/<((?:https?|mailto|ftp):[^\s<>]*)>/g, '$1')
    .replace(LINK, (_link, bang: string, label: string) => (bang ? '' : label))
    // Again for the image a link label held (badges: `[![Build](badge.svg)](ci)`), now in the open.
    .replace(LINK, (_link, bang: string, label: string) => (bang ? '' : label))
    .replace(/\[((?:[^[\]]|\[[^[\]]*\])+)\]\[[^\]]*\]/g, '$1')
    .replace(/^[ \t]{0,3}\[[^\]]+\]:[ \t]*\S+.*$/gm, '')
    // Adjacent elements such as <span>option A</span><span>option B</span> must not glue their words.
    .replace(/(<\/[A-Za-z][\w.:-]*\s*>)(?=<[A-Za-z])/g, '$1 ')
    .replace(TAG, '\u0001');
  text = dropTagMarkers(text);
  return text.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => spans[Number(i)] ?? '');
}

const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s/;

/**
 * Removes the markers left where tags were. Lines that only held tags go; text on or right after a tag line
 * sat inside an HTML block and is often indented there, which Markdown would read as a code block, so it
 * is dedented (list items keep their indentation, which carries nesting).
 */
function dropTagMarkers(text: string): string {
  const out: string[] = [];
  let afterTag = false;
  for (const line of text.split('\n')) {
    const hadTag = line.includes('\u0001');
    const rest = line.replace(/\u0001/g, '');
    if (hadTag && rest.trim() === '') {
      afterTag = true;
      continue;
    }
    out.push((hadTag || afterTag) && !LIST_ITEM.test(rest) ? rest.trimStart() : rest);
    afterTag = hadTag;
  }
  return out.join('\n');
}

function cleanMarkdown(body: string, mdx: boolean): string {
  // \u0000 and \u0001 serve as placeholders in cleanProse; a source file has no business containing them.
  return splitFences(body.replace(/[\u0000\u0001]/g, ''))
    .map((segment) => (segment.code ? segment.text : cleanProse(segment.text, mdx)))
    .join('\n')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * The first level-1 heading (`# Title` or `Title` over a `===` line) outside code, as the chunker reads it,
 * without inline-code backticks and bold markers.
 */
function firstHeading(text: string): string {
  // Reading the blocks costs about half of loading the file: done only when a setext h1 may be there.
  if (/^ {0,3}=+[ \t]*$/m.test(text)) {
    for (const block of readMarkdownBlocks(text)) {
      if (block.kind !== 'heading' || block.level !== 1) continue;
      const heading = block.text.replace(/`|\*\*/g, '').trim();
      if (heading) return heading;
    }
    return '';
  }
  for (const segment of splitFences(text)) {
    if (segment.code) continue;
    const heading = /^# +(.+?)(?:\s+#+)?\s*$/m.exec(segment.text)?.[1];
    if (heading) return heading.replace(/`|\*\*/g, '').trim();
  }
  return '';
}
