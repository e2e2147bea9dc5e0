import { existsSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import { defineCommand, parseArgs, renderUsage, type ArgsDef } from 'citty';
import { loadConfig } from '../src/config.ts';
import { embedderFromConfig } from '../src/embed/from-config.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { knowledgeBaseNameProblem, type Store } from '../src/store/store.ts';
import { progressReporter } from './progress.ts';
import { checkSourceFolder, ingestDirectory, type IngestSummary } from './run.ts';

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

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
}

const KNOWN_FLAGS = new Set(['kb', 'rebuild', 'dry-run', 'dryRun', '_']);
/** Boolean flags as citty also accepts them: kebab-case and camelCase. */
const BOOLEAN_FLAGS = new Set(['rebuild', 'dry-run', 'dryRun']);

/**
 * Runs `ingest` with the given arguments and returns the exit code: 0 when anything was ingested or nothing
 * needed to change, 1 when the folder does not exist, every file failed or the run could not go on, 2 on
 * usage errors (which open no file). Nothing here touches `process`; `main.ts` owns argv and the exit code.
 *
 * `--dry-run` writes nothing, not even a new database: an existing one is opened read-only, and a missing
 * one stands in as an empty in-memory database (so every file reports as added).
 *
 * @example
 * const code = await runIngestCli(['./docs', '--kb', 'hr'], { stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function runIngestCli(argv: string[], io: CliIO): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(await usageFor(io.stdout));
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs<typeof args>(argv, args);
  } catch (error) {
    // citty reports a missing folder this way; any parse problem is a usage error.
    io.stderr.write(
      `ingest: ${error instanceof Error ? error.message : String(error)}\n\n${await usageFor(io.stderr)}`,
    );
    return 2;
  }
  const unknown = Object.keys(parsed).filter((k) => !KNOWN_FLAGS.has(k) && !(k in args));
  const kbProblem =
    typeof parsed.kb !== 'string' || parsed.kb === ''
      ? '--kb needs a name'
      : knowledgeBaseNameProblem(parsed.kb)?.replace(/^/, '--kb: ');
  const problems = [
    ...unknown.map((k) => `unknown option --${k}`),
    ...booleanValueProblems(argv),
    ...(parsed._.length > 1 ? [`one folder at a time (got ${parsed._.length})`] : []),
    ...(kbProblem ? [kbProblem] : []),
  ];
  if (problems.length > 0) {
    io.stderr.write(`ingest: ${problems.join('; ')}\n\n${await usageFor(io.stderr)}`);
    return 2;
  }

  let store;
  const progress = progressReporter(io.stderr);
  try {
    const config = loadConfig(io.env);
    const embedder = embedderFromConfig(config);
    const dryRun = Boolean(parsed['dry-run']);
    await checkSourceFolder(parsed._[0]!);
    store = openStore(config.kbPath, dryRun);
    const summary = await ingestDirectory({
      dir: parsed._[0]!,
      kb: parsed.kb,
      store,
      embedder,
      chunk: { maxTokens: config.chunk.maxTokens, overlapTokens: config.chunk.overlapTokens },
      rebuild: Boolean(parsed.rebuild),
      dryRun,
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

/** The usage text, without colour codes unless `out` is a terminal (citty colours by environment only). */
async function usageFor(out: Output): Promise<string> {
  const usage = `${await renderUsage(ingestCommand)}\n`;
  return out.isTTY ? usage : stripVTControlCharacters(usage);
}

/**
 * citty reads any value but "false" as true (`--rebuild=foo`, `--dry-run=0`), so a typo would rebuild
 * or write: only `true` and `false` are accepted after `=`. Arguments after `--` are not options.
 */
function booleanValueProblems(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).flatMap((arg) => {
    const match = /^--([^=]+)=(.*)$/s.exec(arg);
    if (!match || !BOOLEAN_FLAGS.has(match[1]!) || match[2] === 'true' || match[2] === 'false') return [];
    return [`--${match[1]} takes no value, or =true or =false (got "${match[2]}")`];
  });
}

/**
 * The store a run works on. A dry run must not write, and opening read-write would create the file and
 * migrate it: an existing database is opened read-only instead (which refuses a schema that needs
 * migrating, since migrating is a write), and a missing one is stood in for by an empty in-memory database.
 */
function openStore(kbPath: string, dryRun: boolean): Store {
  if (!dryRun) return openSqliteStore(kbPath);
  if (!existsSync(kbPath)) return openSqliteStore(':memory:');
  try {
    return openSqliteStore(kbPath, { readonly: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`--dry-run only reads ${kbPath}, and could not: ${reason}`, { cause: error });
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
