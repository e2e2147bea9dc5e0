import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { DocumentRecord } from '../src/store/store.ts';
import { loaderFor } from './loaders/registry.ts';

/**
 * Bytes of files to load below which no chunk worker is started: it takes 0.5–1 s to start (tsx compiles
 * the loaders, chunker and embedder again in it, and its JIT starts cold). Medians of 3 interleaved runs on
 * a busy 2-core machine: the generated 10.4 MB corpus (250 files) went from 6.5 s to 5.1 s with it, the
 * 1 MB Vue docs (English) from 0.85 s to 1.16 s.
 */
export const WORKER_MIN_BYTES = 4_000_000;

/**
 * Sum of the sizes of the files this run will load: new, changed by size/mtime, or all when re-chunking.
 *
 * @example
 * bytesToLoad('./docs', ['a.md', 'logo.png'], new Map(), false) // size of a.md (no loader for .png)
 */
export function bytesToLoad(
  dir: string,
  files: readonly string[],
  existing: ReadonlyMap<string, DocumentRecord>,
  all: boolean,
): number {
  let total = 0;
  for (const path of files) {
    if (!loaderFor(path)) continue;
    try {
      // Synchronous: a few microseconds a file from the page cache, and only to pick a strategy.
      const { size, mtimeMs } = statSync(join(dir, path));
      const previous = existing.get(path);
      if (all || previous?.size !== size || previous.mtimeMs !== mtimeMs) total += size;
    } catch {
      // Gone or unreadable: the run itself reports it.
    }
  }
  return total;
}
