import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Folders never worth ingesting: dependencies and caches (hidden folders such as `.git` are left out too). */
const SKIPPED_DIRS = new Set(['node_modules', '__pycache__']);

/** Something below the root that will not be ingested, and why. */
export interface WalkProblem {
  path: string;
  reason: string;
}

export interface WalkResult {
  /** Regular files (or links to them), relative to the root with `/` separators, sorted. */
  files: string[];
  /** Entries left out on purpose: hidden ones, dependency folders, links back into folders already seen. */
  skipped: WalkProblem[];
  /**
   * Folders that could not be listed and links that lead nowhere. What the knowledge base holds from an
   * unreadable folder is kept: it is not known to be gone.
   */
  failed: WalkProblem[];
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Every file below `root`, sorted so runs are reproducible. Symbolic links are followed, to files and to
 * folders, but a folder is listed once whatever the number of ways to reach it, so a link loop cannot hang
 * an ingest. Hidden entries (`.git`, `.DS_Store`) and `node_modules` are skipped and reported (one entry
 * per folder, not per file in it); a folder that cannot be listed fails on its own and the rest goes on.
 *
 * @throws when `root` itself cannot be listed
 * @example
 * await walkFiles('./docs') // { files: ['guide/install.md', 'guide/zh/安装.md', 'manual.pdf'], skipped: [{ path: '.git', reason: 'hidden' }], failed: [] }
 */
export async function walkFiles(root: string): Promise<WalkResult> {
  const result: WalkResult = { files: [], skipped: [], failed: [] };
  const listed = new Set<string>();

  async function visit(relative: string): Promise<void> {
    const absolute = join(root, relative);
    const real = await realpath(absolute);
    if (listed.has(real)) {
      result.skipped.push({ path: relative, reason: 'a link to a folder already ingested' });
      return;
    }
    listed.add(real);
    const entries = await readdir(absolute, { withFileTypes: true });
    for (const entry of entries) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.name.startsWith('.')) {
        result.skipped.push({ path, reason: 'hidden' });
        continue;
      }
      let kind: 'file' | 'folder' | 'other' = entry.isFile()
        ? 'file'
        : entry.isDirectory()
          ? 'folder'
          : 'other';
      if (entry.isSymbolicLink()) {
        try {
          const target = await stat(join(root, path));
          kind = target.isFile() ? 'file' : target.isDirectory() ? 'folder' : 'other';
        } catch (error) {
          result.failed.push({ path, reason: `broken symbolic link (${reasonOf(error)})` });
          continue;
        }
      }
      if (kind === 'file') {
        result.files.push(path);
      } else if (kind === 'folder') {
        if (SKIPPED_DIRS.has(entry.name)) result.skipped.push({ path, reason: `${entry.name} folder` });
        else
          await visit(path).catch((error: unknown) => result.failed.push({ path, reason: reasonOf(error) }));
      }
      // Sockets, FIFOs and devices are not documents: not worth a line in the report.
    }
  }

  await visit('');
  result.files.sort();
  return result;
}
