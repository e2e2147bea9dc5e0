/**
 * `npm run build:widget`: writes the widget bundle to `dist/widget.js` and prints its size, raw and
 * gzipped. The service builds the same bundle in memory at start; this file is for inspecting it or
 * serving it from elsewhere (a CDN).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWidget } from './build.ts';

const OUT_DIR = 'dist';

try {
  const bundle = await buildWidget();
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, 'widget.js');
  writeFileSync(file, bundle.code);
  const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
  process.stdout.write(`${file}: ${kb(Buffer.byteLength(bundle.code))}, ${kb(bundle.gzipBytes)} gzipped\n`);
} catch (error) {
  process.stderr.write(`error: cannot build the widget: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
