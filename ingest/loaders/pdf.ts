import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PDFParse } from 'pdf-parse';
import type { Loader } from './loader.ts';

/**
 * Where pdfjs-dist keeps its data files, as file-system paths ending in '/': pdf.js in Node reads them
 * with `fs.readFile(base + name)`, so a `file://` URL string would not work here. Resolved on first use,
 * not at import, so importing this module touches nothing.
 */
let pdfjsData: { cMapUrl: string; standardFontDataUrl: string } | undefined;
function pdfjsDataPaths(): { cMapUrl: string; standardFontDataUrl: string } {
  if (!pdfjsData) {
    const root = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
    pdfjsData = {
      cMapUrl: `${join(root, 'cmaps')}/`,
      standardFontDataUrl: `${join(root, 'standard_fonts')}/`,
    };
  }
  return pdfjsData;
}

/**
 * Loads a `.pdf` file with pdf-parse (pdf.js). Each page's text is cleaned up, then pages are joined with a
 * blank line and `pageOffsets[i]` is where page i+1 starts in `text`. `metadata.pages` is the page count;
 * the title is the PDF's Title field unless it is empty or junk (a file name, "untitled"), else ''.
 *
 * pdf.js is always given its CMaps: fonts that map glyphs to Unicode through a predefined CMap (common in
 * Chinese, Japanese and Korean PDFs made by dvipdfmx) otherwise silently come back with no CJK text at all.
 * Font code evaluation is off, because PDFs here come from anywhere (CVE-2024-4367).
 *
 * Throws, with a message a user can act on, for an encrypted PDF, bytes that are not a PDF or are damaged
 * beyond pdf.js's repair, and a PDF without any text (scanned pages).
 *
 * @example
 * const doc = await loadPdf(await readFile('manual.pdf'), { path: 'manual.pdf' });
 * doc.metadata.pages; // 87
 */
export const loadPdf: Loader = async (bytes) => {
  const parser = new PDFParse({
    // A copy: pdf.js may transfer (detach) the buffer it is given, and the caller's bytes must stay intact.
    data: new Uint8Array(bytes),
    ...pdfjsDataPaths(),
    cMapPacked: true,
    isEvalSupported: false,
  });
  try {
    const info = await parser.getInfo();
    const result = await parser.getText();
    let text = '';
    const pageOffsets: number[] = [];
    for (const [i, page] of result.pages.entries()) {
      if (i > 0) text += '\n\n';
      pageOffsets.push(text.length);
      text += cleanPageText(page.text);
    }
    if (text.trim() === '')
      throw new Error('PDF has no extractable text (scanned images?); run OCR on it first');
    const rawTitle: unknown = (info.info as { Title?: unknown } | undefined)?.Title;
    return {
      title: typeof rawTitle === 'string' ? usableTitle(rawTitle) : '',
      text,
      pageOffsets,
      metadata: { pages: result.total },
    };
  } catch (error) {
    throw readableError(error);
  } finally {
    await parser.destroy();
  }
};

// pdf-parse maps pdf.js's errors to classes of the same names; errors raised while reading a page come
// straight from pdf.js. Both are matched by name.
function readableError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name === 'PasswordException') {
    return new Error('PDF is encrypted (password-protected); remove the password and re-run', {
      cause: error,
    });
  }
  if (error.name === 'InvalidPDFException' || error.name === 'FormatError') {
    return new Error(`not a valid PDF file (damaged or not a PDF: ${error.message})`, { cause: error });
  }
  return error;
}

// A line ending in a Han character or in CJK punctuation that cannot end a sentence, followed by a line
// starting with a Han character or CJK punctuation, is one sentence broken by the layout.
const CJK_LINE_END = /[\p{Script=Han}，、；：（《〈「『【〔“‘—…]$/u;
const CJK_LINE_START = /^[\p{Script=Han}，、；：。！？）》〉」』】〕”’（《〈「『【〔“‘—…]/u;
// A line this close to the page's usual full width was wrapped; a shorter one ends a heading or paragraph.
const FULL_LINE = 0.8;

/**
 * PDF text comes as one line per printed line. Cleans up what that breaks: an English word hyphenated at
 * the end of a line is joined ("pa-\nrameters" becomes "parameters"), and a full-width line of Chinese text
 * is joined to the next one without a space (Chinese puts no spaces between words). A short line (a
 * heading, the end of a paragraph) keeps its line break, as does a line ending in 。！？. Control characters
 * (glyphs without a Unicode mapping) are dropped, and runs of spaces and tabs (pdf-parse marks wide gaps
 * with a tab) become one space.
 *
 * @example
 * cleanPageText('positional pa-\nrameters'); // 'positional parameters'
 * cleanPageText('文档类规定了\n文档的性质'); // '文档类规定了文档的性质'
 */
export function cleanPageText(page: string): string {
  const lines = page
    .replace(/\r\n?/g, '\n')
    // Soft hyphens, and control characters that math fonts without a Unicode mapping produce.
    .replace(/[\u00ad\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/([A-Za-z])-\n([a-z])/g, '$1$2')
    .trim()
    .split('\n');
  const widths = lines.map(displayWidth);
  const full = FULL_LINE * percentile(widths, 0.9);
  let text = lines[0] ?? '';
  for (let i = 1; i < lines.length; i++) {
    const previous = lines[i - 1] ?? '';
    const line = lines[i] ?? '';
    const wrapped = (widths[i - 1] ?? 0) >= full && CJK_LINE_END.test(previous) && CJK_LINE_START.test(line);
    text += (wrapped ? '' : '\n') + line;
  }
  return text.replace(/\n{3,}/g, '\n\n');
}

/** Width in columns: CJK characters are two columns wide, as they are on the page. */
function displayWidth(line: string): number {
  let width = 0;
  for (const char of line) width += /[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u.test(char) ? 2 : 1;
  return width;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** A Title field worth showing: not empty, not a placeholder, not the source file's name. */
function usableTitle(raw: string): string {
  // PDF strings may carry control characters (and NULs from UTF-16 titles read as PDFDocEncoding).
  const title = raw
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const junk =
    title.length < 2 ||
    /^(untitled( document)?|title|document|new document)$/i.test(title) ||
    /^microsoft (word|powerpoint|excel) - /i.test(title) ||
    /\.(pdf|dvi|tex|docx?|rtf|ps|indd|qxd|odt)$/i.test(title) ||
    !/[\p{L}\p{N}]/u.test(title);
  return junk ? '' : title;
}
