import { defineCommand, parseArgs, renderUsage, type ArgsDef } from 'citty';
import { loadConfig } from '../src/config.ts';
import { embedderFromConfig } from '../src/embed/from-config.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { progressReporter } from './progress.ts';
import { ingestDirectory, type IngestSummary } from './run.ts';

const args = {
  dir: { type: 'positional', description: 'Folder of documents to ingest', required: true },
  kb: { type: 'string', description: 'Knowledge base name', default: 'default', valueHint: 'NAME' },
  rebuild: { type: 'boolean', description: 'Delete the knowledge base and ingest everything anew' },
  'dry-run': { type: 'boolean', description: 'Report what would change; write nothing' },
} satisfies ArgsDef;

/** The command as data: `ingest DIR [--kb NAME] [--rebuild] [--dry-run]`. */
export const ingestCommand = defineCommand({
  meta: {
    name: 'ingest',
    description:
      'Load Markdown, HTML, PDF, DOCX and text files into a knowledge base; re-runs only do what changed.',
  },
  args,
});

export interface CliIO {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
}

const KNOWN_FLAGS = new Set(['kb', 'rebuild', 'dry-run', 'dryRun', '_']);

/**
 * Runs `ingest` with the given arguments and returns the exit code: 0 when anything was ingested or nothing
 * needed to change, 1 when the folder does not exist, every file failed or the run could not go on, 2 on
 * usage errors. Nothing here touches `process`; `main.ts` owns argv and the exit code.
 *
 * @example
 * const code = await runIngestCli(['./docs', '--kb', 'hr'], { stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function runIngestCli(argv: string[], io: CliIO): Promise<number> {
  const usage = async () => `${await renderUsage(ingestCommand)}\n`;
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(await usage());
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs<typeof args>(argv, args);
  } catch (error) {
    // citty reports a missing folder this way; any parse problem is a usage error.
    io.stderr.write(`ingest: ${error instanceof Error ? error.message : String(error)}\n\n${await usage()}`);
    return 2;
  }
  const unknown = Object.keys(parsed).filter((k) => !KNOWN_FLAGS.has(k) && !(k in args));
  const problems = [
    ...unknown.map((k) => `unknown option --${k}`),
    ...(parsed._.length > 1 ? [`one folder at a time (got ${parsed._.length})`] : []),
    ...(typeof parsed.kb !== 'string' || parsed.kb === '' ? ['--kb needs a name'] : []),
  ];
  if (problems.length > 0) {
    io.stderr.write(`ingest: ${problems.join('; ')}\n\n${await usage()}`);
    return 2;
  }

  let store;
  const progress = progressReporter(io.stderr);
  try {
    const config = loadConfig(io.env);
    const embedder = embedderFromConfig(config);
    store = openSqliteStore(config.kbPath);
    const summary = await ingestDirectory({
      dir: parsed._[0]!,
      kb: parsed.kb,
      store,
      embedder,
      chunk: { maxTokens: config.chunk.maxTokens, overlapTokens: config.chunk.overlapTokens },
      rebuild: Boolean(parsed.rebuild),
      dryRun: Boolean(parsed['dry-run']),
      onEvent: progress.onEvent,
    }).finally(progress.finish);
    io.stdout.write(`${formatSummary(summary, config.kbPath)}\n`);
    const succeeded = summary.added + summary.changed + summary.unchanged + summary.deleted;
    return summary.failed > 0 && succeeded === 0 ? 1 : 0;
  } catch (error) {
    io.stderr.write(`ingest: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    store?.close();
  }
}

/** One summary line, plus the failures with their reasons. */
export function formatSummary(s: IngestSummary, kbPath: string): string {
  const head = s.dryRun ? `dry run, nothing written (${kbPath}, kb "${s.kb}")` : `${kbPath}, kb "${s.kb}"`;
  const counts =
    `${s.added} added, ${s.changed} changed, ${s.unchanged} unchanged, ${s.deleted} deleted, ` +
    `${s.skipped} skipped, ${s.failed} failed`;
  const work =
    `${s.chunks} chunks (${s.embeddedChunks} embedded, ${s.reusedChunks} reused), ${s.tokens} tokens, ` +
    `${s.embeddingRequests} embedding requests, ${s.seconds.toFixed(2)} s`;
  const failures = s.failures.map((f) => `\n  failed: ${f.path}: ${f.reason}`).join('');
  return `${head}: ${counts}; ${work}${failures}`;
}
