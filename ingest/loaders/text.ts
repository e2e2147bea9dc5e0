import type { LoadedDocument, Loader } from './loader.ts';

/** The result of `decodeText`: the text and the encoding it was read with. */
export interface DecodedText {
  text: string;
  /** `utf-8`, or `gb18030` when the bytes were not valid UTF-8. */
  encoding: 'utf-8' | 'gb18030';
}

/**
 * Decodes a text file's bytes: UTF-8 when they are valid UTF-8 (a leading BOM is dropped), otherwise
 * GB18030, the superset of GBK/GB2312 that Chinese Windows editors save by default. Valid UTF-8 is almost
 * never accidental for non-ASCII text, so trying it strictly first does not misread GB18030 files. Line
 * endings are normalised to `\n` so offsets and chunk texts do not depend on the editor that saved the file.
 *
 * @example
 * decodeText(new Uint8Array([0xc4, 0xe3, 0xba, 0xc3])); // { text: '你好', encoding: 'gb18030' }
 */
export function decodeText(bytes: Uint8Array): DecodedText {
  let text: string;
  let encoding: DecodedText['encoding'] = 'utf-8';
  try {
    // TextDecoder drops a UTF-8 BOM by default (ignoreBOM: false).
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    encoding = 'gb18030';
    text = new TextDecoder('gb18030').decode(bytes);
  }
  return { text: text.replace(/\r\n?/g, '\n'), encoding };
}

/**
 * Loads a `.txt` file: the decoded text as is, with no title (the pipeline falls back to the file name).
 * `metadata.encoding` is set only when the file was not UTF-8, so the usual case stores nothing extra.
 *
 * @example
 * const doc = await loadText(new TextEncoder().encode('hello'), { path: 'notes.txt' });
 * doc.text; // 'hello'
 */
export const loadText: Loader = async (bytes) => {
  const { text, encoding } = decodeText(bytes);
  const doc: LoadedDocument = { title: '', text: text.trim(), metadata: {} };
  if (encoding !== 'utf-8') doc.metadata.encoding = encoding;
  return doc;
};
