import { basename, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { defineCommand, parseArgs, renderUsage, type ArgsDef } from 'citty';
import { loadConfig } from '../src/config.ts';
import { embedderFromConfig } from '../src/embed/from-config.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { CliIO } from './cli.ts';
import { evaluateBeir } from './eval.ts';

const args = {
  dir: {
    type: 'positional',
    description: 'BEIR-layout folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)',
    required: true,
  },
  kb: { type: 'string', description: 'Knowledge base to build (default beir-<folder>)', valueHint: 'NAME' },
  k: { type: 'string', description: 'Metric cut-off', default: '10' },
  db: {
    type: 'string',
    description: 'SQLite file for evaluation knowledge bases',
    default: 'data/eval.sqlite',
  },
  limit: { type: 'string', description: 'Evaluate only the first N judged queries' },
} satisfies ArgsDef;

/** `eval DIR [--kb NAME] [--k 10]`: retrieval quality of the configured embedder on a BEIR set. */
export const evalCommand = defineCommand({
  meta: {
    name: 'eval',
    description: 'Ingest a BEIR-layout set and print nDCG, recall and MRR as one JSON line.',
  },
  args,
});

/**
 * Runs the evaluation and returns the exit code (0, 1 on errors, 2 on usage errors). It writes to its own
 * SQLite file (`--db`, default data/eval.sqlite) so evaluation sets never mix with the served knowledge bases.
 *
 * @example
 * await runEvalCli(['../shared/eval/retrieval/scifact'], { stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function runEvalCli(argv: string[], io: CliIO): Promise<number> {
  const parsed = parseArgs<typeof args>(argv, args);
  const k = Number(parsed.k);
  const limit = parsed.limit === undefined ? undefined : Number(parsed.limit);
  if (parsed._.length !== 1 || !Number.isInteger(k) || k < 1 || (limit !== undefined && !(limit > 0))) {
    io.stderr.write(
      `eval: give one folder; --k and --limit take positive whole numbers\n\n${await renderUsage(evalCommand)}\n`,
    );
    return 2;
  }
  const dir = resolve(parsed._[0]!);
  const name = basename(dir).replace(/[^A-Za-z0-9_.-]/g, '-');
  let store;
  try {
    const config = loadConfig(io.env);
    store = openSqliteStore(parsed.db);
    const result = await evaluateBeir({
      dir,
      workDir: join(tmpdir(), `kb-eval-${name}`),
      kb: parsed.kb ?? `beir-${name}`,
      store,
      embedder: embedderFromConfig(config),
      chunk: { maxTokens: config.chunk.maxTokens, overlapTokens: config.chunk.overlapTokens },
      fusion: config.retrieval,
      k,
      ...(limit ? { limit } : {}),
    });
    io.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`eval: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    store?.close();
  }
}
