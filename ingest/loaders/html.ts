import { NodeHtmlMarkdown, PostProcessResult, type TranslatorConfigObject } from 'node-html-markdown';
import type { LoadedDocument, Loader } from './loader.ts';
import { decodeText } from './text.ts';

/** Page chrome and non-content elements: dropped with everything inside them. */
const CHROME = ['script', 'style', 'noscript', 'template', 'svg', 'nav', 'aside', 'form', 'iframe', 'button'];

// A RegExp that never matches: Markdown escaping is switched off (see htmlToStructuredText).
const NEVER: readonly [RegExp, string] = [/(?!)/g, ''];

/**
 * Converts an HTML page to the structured text of a `LoadedDocument`: headings as `#` lines, lists as
 * `-`/`1.` lines, tables as pipe tables, `<pre>` as code fences. The page chrome (script, style, nav, site
 * header and footer, aside, forms, buttons, iframes, svg, ...) is dropped, as are comments, images and link
 * URLs: a link keeps only its text, because URLs cost tokens, add noise to chunks and their embeddings, and
 * citations point at the document anyway. No tag from the markup survives; text written with entities
 * (`&lt;b&gt;`) is text and comes out as `<b>`. Markdown escaping is off so identifiers like `snake_case`
 * stay searchable as written.
 *
 * A `<header>`/`<footer>` inside `<article>` or `<main>` belongs to the content and is kept; elsewhere it is
 * site chrome. The title is `<title>`, else the first `<h1>`, else ''.
 *
 * @example
 * htmlToStructuredText('<title>Hi</title><nav>menu</nav><h1>Hello</h1><p>World</p>');
 * // { title: 'Hi', text: '# Hello\n\nWorld' }
 */
export function htmlToStructuredText(html: string): { title: string; text: string } {
  let pageTitle = '';
  let firstH1 = '';
  const translators: TranslatorConfigObject = {
    // <head> is ignored by default; visit it only to read <title> (its other children are all ignored).
    head: { ignore: false, recurse: true },
    title: {
      postprocess: ({ content }) => {
        if (!pageTitle) pageTitle = oneLine(content);
        return PostProcessResult.RemoveNode;
      },
    },
    'h1,h2,h3,h4,h5,h6': ({ node }) => ({
      prefix: `${'#'.repeat(Number(node.tagName.charAt(1)))} `,
      postprocess: ({ content }) => {
        const heading = oneLine(content);
        if (!heading) return PostProcessResult.RemoveNode;
        if (node.tagName.toUpperCase() === 'H1' && !firstH1) firstH1 = heading;
        return heading;
      },
    }),
    'header,footer': ({ node }) => (node.closest('article, main') ? {} : { ignore: true }),
    a: {},
    img: { ignore: true },
    // A <pre> without a single <code> child gets a fence too, so its lines are not read as prose; inside it,
    // inline markup stays plain as in a code block.
    pre: ({ node, visitor }) =>
      node.childNodes.length === 1 &&
      /^code$/i.test((node.firstChild as { tagName?: string } | null)?.tagName ?? '')
        ? { noEscape: true, preserveWhitespace: true }
        : {
            noEscape: true,
            preserveWhitespace: true,
            prefix: '```\n',
            postfix: '\n```',
            childTranslators: visitor.instance.codeBlockTranslators,
          },
  };
  const converter = new NodeHtmlMarkdown(
    {
      bulletMarker: '-',
      ignore: CHROME,
      globalEscape: NEVER,
      lineStartEscape: NEVER,
      maxConsecutiveNewlines: 2,
    },
    translators,
  );
  // Table cells render with their own translator set: keep link text only, and separate block children.
  converter.tableCellTranslators.set('a', {});
  converter.tableCellTranslators.set('img', { ignore: true });
  converter.tableCellTranslators.set('p,div,li,br', { postfix: ' ' });
  converter.aTagTranslators.set('img', { ignore: true });

  const markdown = converter.translate(stripMarkupDeclarations(html));
  const text = markdown
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { title: pageTitle || firstH1, text };
}

/**
 * Removes what HTML parsers treat as comments but node-html-parser passes through as text: comments (also
 * unterminated ones, which run to the end as in browsers), CDATA sections, `<!DOCTYPE>` and other `<!...>`
 * declarations, and `<?xml ...?>` processing instructions.
 */
function stripMarkupDeclarations(html: string): string {
  return html
    .replace(/<!--[\s\S]*?(?:-->|(?![\s\S]))/g, '')
    .replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '')
    .replace(/<![^>]*>/g, '')
    .replace(/<\?[^>]*>/g, '');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Decodes an HTML file: with the charset its `<meta>` declares when that is not UTF-8 (legacy pages in
 * windows-1252, Shift_JIS, GBK, ...), otherwise like any text file (UTF-8, else GB18030).
 */
function decodeHtml(bytes: Uint8Array): { html: string; encoding?: string } {
  // The declaration must sit in the first 1024 bytes (HTML spec); latin1 reads them whatever the encoding.
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  const label = /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1];
  if (label) {
    try {
      const decoder = new TextDecoder(label);
      if (decoder.encoding !== 'utf-8') return { html: decoder.decode(bytes), encoding: decoder.encoding };
    } catch {
      // An unknown label (RangeError): fall through to the default decoding.
    }
  }
  const { text, encoding } = decodeText(bytes);
  return encoding === 'utf-8' ? { html: text } : { html: text, encoding };
}

/**
 * Loads an `.html`/`.htm` file with `htmlToStructuredText`. `metadata.encoding` is set when the file was
 * not UTF-8.
 *
 * @example
 * const doc = await loadHtml(new TextEncoder().encode('<h1>Hello</h1>'), { path: 'a.html' });
 * doc.title; // 'Hello'
 */
export const loadHtml: Loader = async (bytes) => {
  const { html, encoding } = decodeHtml(bytes);
  const { title, text } = htmlToStructuredText(html);
  const doc: LoadedDocument = { title, text, metadata: {} };
  if (encoding) doc.metadata.encoding = encoding;
  return doc;
};
