import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Folders never worth ingesting: VCS data, dependencies, and hidden folders in general. */
const SKIPPED_DIRS = new Set(['node_modules', '__pycache__']);

/**
 * Every regular file below `root`, as paths relative to it with `/` separators, sorted so runs are
 * reproducible. Hidden files and folders (`.git`, `.DS_Store`) and `node_modules` are left out; symbolic
 * links are not followed, so a link loop cannot hang an ingest.
 *
 * @example
 * await walkFiles('./docs') // ['guide/install.md', 'guide/zh/安装.md', 'manual.pdf']
 */
export async function walkFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  async function visit(relative: string): Promise<void> {
    const entries = await readdir(join(root, relative), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await visit(path);
      } else if (entry.isFile()) {
        files.push(path);
      }
    }
  }
  await visit('');
  return files.sort();
}
