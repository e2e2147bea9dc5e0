/**
 * A loader turns a file's bytes into structured text. Loaders are pure: bytes in, a `LoadedDocument` out;
 * they never touch the file system, the store or the console. A loader that cannot read a file throws an
 * Error whose message says why in words a user can act on ("encrypted PDF", "not a DOCX file", ...).
 */
export interface LoadedDocument {
  /** Front-matter title, <title>/first <h1>, PDF/DOCX metadata title, or '' (the pipeline falls back to the file name). */
  title: string;
  /**
   * Markdown-flavoured text: headings as `#` lines, lists as `-`/`1.` lines, tables as pipe tables,
   * code in ``` fences. Never raw HTML tags. The chunker splits along this structure.
   */
  text: string;
  /** For paged formats: `pageOffsets[i]` is the index in `text` where page i+1 starts (ascending, first is 0). */
  pageOffsets?: number[];
  metadata: Record<string, string | number | boolean>;
}

export interface LoadContext {
  /** The file's path relative to the ingested folder, for messages only. */
  path: string;
}

export type Loader = (bytes: Uint8Array, context: LoadContext) => Promise<LoadedDocument>;

export interface LoaderEntry {
  /** The format name stored with the document: `markdown`, `text`, `html`, `pdf`, `docx`. */
  format: string;
  load: Loader;
}
