import { extname } from 'node:path';
import { loadHtml } from './html.ts';
import type { LoaderEntry } from './loader.ts';
import { loadMarkdown, loadMdx } from './markdown.ts';
import { loadText } from './text.ts';

/**
 * Every supported format, keyed by lower-case extension with its dot (as `path.extname` gives it). Adding a
 * format is one line here and one loader file; the shared contract test then covers it.
 *
 * The PDF and DOCX loaders are imported on first use: pdf.js and mammoth take a noticeable time to load,
 * and re-ingesting an unchanged folder never loads a file at all.
 *
 * @example
 * loaders['.md']?.format; // 'markdown'
 */
export const loaders: Readonly<Record<string, LoaderEntry>> = Object.freeze({
  '.md': { format: 'markdown', load: loadMarkdown },
  '.markdown': { format: 'markdown', load: loadMarkdown },
  '.mdx': { format: 'markdown', load: loadMdx },
  '.txt': { format: 'text', load: loadText },
  '.html': { format: 'html', load: loadHtml },
  '.htm': { format: 'html', load: loadHtml },
  '.pdf': {
    format: 'pdf',
    load: async (bytes, context) => (await import('./pdf.ts')).loadPdf(bytes, context),
  },
  '.docx': {
    format: 'docx',
    load: async (bytes, context) => (await import('./docx.ts')).loadDocx(bytes, context),
  },
});

/**
 * The extensions that have a loader, for messages and for listing what an ingest will pick up.
 *
 * @example
 * supportedExtensions.includes('.pdf'); // true
 */
export const supportedExtensions: readonly string[] = Object.freeze(Object.keys(loaders));

/**
 * The loader for a file, chosen by its extension (case-insensitive), or undefined when the format is not
 * supported.
 *
 * @example
 * loaderFor('docs/Guide.PDF')?.format; // 'pdf'
 * loaderFor('notes.csv'); // undefined
 */
export function loaderFor(path: string): LoaderEntry | undefined {
  const extension = extname(path).toLowerCase();
  return Object.hasOwn(loaders, extension) ? loaders[extension] : undefined;
}
