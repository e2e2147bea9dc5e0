import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/**
 * Bundles the widget (`src/widget/main.ts`) into the one script served at `/widget.js`. It runs when the
 * service starts, so the bundle always matches the source and is never committed.
 */

export interface WidgetBundle {
  /** The minified script (an IIFE; UTF-8, Chinese strings unescaped). */
  code: string;
  /** A strong ETag of `code`, quoted: `"…"`. */
  etag: string;
  /** Size of `code` gzipped at the highest level: the size budget is 25 KB of this. */
  gzipBytes: number;
}

/** Browsers the bundle is compiled for: ES2019 (Chrome 73, Firefox 67, Safari 12.1, Edge 79). */
const TARGET = 'es2019';
const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');

/**
 * Builds the widget bundle in memory.
 *
 * @example
 * const bundle = await buildWidget();
 * app.route('/', createWidgetRoutes(bundle));
 */
export async function buildWidget(): Promise<WidgetBundle> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: TARGET,
    write: false,
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no output for the widget');
  const code = output.text;
  const etag = `"${createHash('sha256').update(code).digest('base64url').slice(0, 27)}"`;
  return { code, etag, gzipBytes: gzipSync(code, { level: 9 }).length };
}
