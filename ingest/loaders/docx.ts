import mammoth from 'mammoth';
import { htmlToStructuredText } from './html.ts';
import type { Loader } from './loader.ts';

// "PK\x03\x04" starts every zip; "\xD0\xCF\x11\xE0" starts an OLE compound file, which is what Word writes
// for a password-protected .docx and for the old binary .doc format.
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0];

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((byte, i) => bytes[i] === byte);
}

/**
 * Loads a `.docx` file: mammoth turns it into semantic HTML (headings from Word's heading styles, lists,
 * tables, footnotes as a numbered list), which then goes through the HTML path, so the text has `#`
 * headings, `-`/`1.` lists and pipe tables. Images are not read at all; external files are never opened.
 * The title is the first heading, else ''. An empty document loads as empty text.
 *
 * @example
 * const doc = await loadDocx(await readFile('handbook.docx'), { path: 'handbook.docx' });
 * doc.text; // '# Handbook\n\n...'
 */
export const loadDocx: Loader = async (bytes) => {
  if (startsWith(bytes, OLE_MAGIC)) {
    throw new Error(
      'not a DOCX file: it is password-protected or an old .doc file; remove the password or save it as .docx',
    );
  }
  if (!startsWith(bytes, ZIP_MAGIC)) throw new Error('not a valid DOCX file (it is not a zip archive)');

  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      {
        externalFileAccess: false,
        // Images are dropped by the HTML path anyway; this skips base64-encoding them first.
        convertImage: mammoth.images.imgElement(async () => ({ src: '' })),
      },
    );
    html = result.value;
  } catch (error) {
    // jszip rejects a damaged archive ("end of central directory"); mammoth a zip without word/document.xml.
    const damaged = error instanceof Error && /central directory|corrupt|zip/i.test(error.message);
    const reason = damaged ? 'the zip archive is damaged or truncated' : 'the zip holds no Word document';
    throw new Error(`not a valid DOCX file (${reason})`, { cause: error });
  }

  // Footnote and endnote back-links ("↑") are navigation, not text.
  html = html.replace(/<a href="#(?:footnote|endnote)-ref-[^"]*">↑<\/a>/g, '');
  const { text } = htmlToStructuredText(html);
  const title = /^#{1,6} +(.+)$/m.exec(text)?.[1]?.trim() ?? '';
  return { title, text, metadata: {} };
};
