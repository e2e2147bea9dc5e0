import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { ingestDirectory, type IngestSummary } from '../ingest/run.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { median } from './stats.ts';

export interface IngestBenchRow {
  corpus: string;
  files: number;
  megabytes: number;
  seconds: number;
  megabytesPerSecond: number;
  chunks: number;
  failed: number;
}

function sizeOf(dir: string, extensions?: Set<string>): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    if (extensions && !extensions.has(extname(entry.name).toLowerCase())) continue;
    files += 1;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}

async function ingestOnce(dir: string, work: string, name: string): Promise<IngestSummary> {
  const store = openSqliteStore(join(work, `${name}.sqlite`));
  try {
    return await ingestDirectory({ dir, kb: 'bench', store, embedder: createLocalEmbedder() });
  } finally {
    store.close();
  }
}

function row(corpus: string, dir: string, summary: IngestSummary, extensions?: Set<string>): IngestBenchRow {
  const { files, bytes } = sizeOf(dir, extensions);
  const megabytes = bytes / 1e6;
  return {
    corpus,
    files,
    megabytes: Number(megabytes.toFixed(2)),
    seconds: Number(summary.seconds.toFixed(2)),
    megabytesPerSecond: Number((megabytes / summary.seconds).toFixed(2)),
    chunks: summary.chunks,
    failed: summary.failed,
  };
}

/**
 * A Markdown corpus of `files` files built from real documentation (the Vue guide, English and Chinese),
 * each file a different mix of its sections, so throughput is measured on realistic text and structure.
 */
function generateCorpus(sourceDirs: string[], target: string, files: number, bytesPerFile: number): void {
  const sections: string[] = [];
  for (const dir of sourceDirs) {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || extname(entry.name) !== '.md') continue;
      const text = readFileSync(join(entry.parentPath, entry.name), 'utf8').replace(/^---[\s\S]*?---\n/, '');
      sections.push(...text.split(/\n(?=## )/).filter((s) => s.length > 200));
    }
  }
  mkdirSync(target, { recursive: true });
  let next = 0;
  for (let f = 0; f < files; f++) {
    const parts = [`# Generated document ${f}\n`];
    let size = 0;
    while (size < bytesPerFile) {
      const section = sections[(next = (next * 7919 + 104729 + f) % sections.length)]!;
      parts.push(section);
      size += Buffer.byteLength(section);
    }
    writeFileSync(join(target, `doc-${String(f).padStart(4, '0')}.md`), parts.join('\n\n'));
  }
}

/**
 * Ingest throughput with the local embedder, end to end (walk, load, chunk, embed, store), over the
 * evaluation documents (the Vue folders twice: first in this fresh process, then again once its code is
 * compiled) and a generated 250-file Markdown corpus, and the time to re-ingest that corpus unchanged
 * (median of 5 runs).
 */
export async function benchIngest(evalDocs: string | undefined): Promise<{
  rows: IngestBenchRow[];
  /** In-process `ingestDirectory`, and the whole `ingest` command (process start-up included). */
  unchangedReingest: { files: number; medianSeconds: number; cliMedianSeconds: number };
}> {
  const work = mkdtempSync(join(tmpdir(), 'kb-bench-ingest-'));
  const rows: IngestBenchRow[] = [];
  try {
    const markdownSources: string[] = [];
    if (evalDocs && existsSync(evalDocs)) {
      const md = new Set(['.md']);
      for (const name of ['vue-docs-en', 'vue-docs-zh-cn']) {
        const dir = join(evalDocs, name);
        if (existsSync(dir)) {
          markdownSources.push(dir);
          rows.push(row(`${name} (Markdown)`, dir, await ingestOnce(dir, work, name), md));
        }
      }
      // The same folders again, into new knowledge bases, in this process, whose code is now compiled: the
      // difference is what a fresh process pays once (V8 compiling the chunker, embedder and store code).
      for (const dir of markdownSources) {
        const name = basename(dir);
        rows.push(row(`${name} again, same process`, dir, await ingestOnce(dir, work, `${name}-again`), md));
      }
      rows.push(
        row('all of shared/eval/docs (md, pdf, docx)', evalDocs, await ingestOnce(evalDocs, work, 'all')),
      );
    } else {
      markdownSources.push(join(import.meta.dirname, '..', 'data', 'sample'));
    }
    const generated = join(work, 'generated');
    generateCorpus(markdownSources, generated, 250, 40_000);
    const first = await ingestOnce(generated, work, 'generated');
    rows.push(row('generated 250 Markdown files', generated, first));

    // Re-ingest unchanged: a fresh copy of the folder would change mtimes, so re-run over the same one.
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) runs.push((await ingestOnce(generated, work, 'generated')).seconds);
    // The same, as a user runs it: the whole CLI process, start-up included.
    const cliRuns: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'ingest/main.ts', generated], {
        cwd: join(import.meta.dirname, '..'),
        env: { ...process.env, KB_PATH: join(work, 'generated-cli.sqlite') },
        encoding: 'utf8',
      });
      if (result.status !== 0) throw new Error(`ingest CLI failed: ${result.stderr}`);
      if (i > 0) cliRuns.push((performance.now() - started) / 1000);
    }
    return {
      rows,
      unchangedReingest: {
        files: 250,
        medianSeconds: Number(median(runs).toFixed(3)),
        cliMedianSeconds: Number(median(cliRuns).toFixed(3)),
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
