import { defineCommand, parseArgs, renderUsage, type ArgsDef } from 'citty';
import { loadConfig } from '../config.ts';
import type { UnansweredQuestion } from '../feedback/feedback-store.ts';
import { sqliteFeedbackStore } from '../feedback/sqlite-feedback-store.ts';
import { sinceDays } from '../routes/admin-unanswered.ts';
import { openSqliteDatabase } from '../store/sqlite.ts';

const args = {
  kb: { type: 'string', description: 'Only this knowledge base; default all', valueHint: 'NAME' },
  days: {
    type: 'string',
    description: 'Only questions asked in the last N days; default all',
    valueHint: 'N',
  },
  limit: {
    type: 'string',
    description: 'Most lines, the most frequent first',
    default: '50',
    valueHint: 'N',
  },
  json: { type: 'boolean', description: 'One JSON object per line instead of a table', default: false },
} satisfies ArgsDef;

/** `report [--kb NAME] [--days N] [--limit 50] [--json]`, as data. */
export const reportCommand = defineCommand({
  meta: {
    name: 'report',
    description:
      'List the questions that found nothing or got a thumbs-down, grouped, with counts and when last asked: ' +
      'what to add to the knowledge base.',
  },
  args,
});

export interface ReportCliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
}

function positiveInt(value: string | undefined): number | undefined | false {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : false;
}

/** A plain table: count, not found, thumbs down, last asked (to the minute), kb, question. */
export function formatReport(rows: readonly UnansweredQuestion[]): string {
  if (rows.length === 0) return 'No unanswered questions.\n';
  const header = ['count', 'not found', 'down', 'last asked (UTC)', 'kb', 'question'];
  const lines = rows.map((r) => [
    String(r.count),
    String(r.notFound),
    String(r.thumbsDown),
    r.lastAskedAt.slice(0, 16).replace('T', ' '),
    r.kb,
    r.question.replace(/\s+/g, ' ') + (r.lastComment ? `  — "${r.lastComment.replace(/\s+/g, ' ')}"` : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[render(header), ...lines.map(render)].join('\n')}\n`;
}

/**
 * Prints the unanswered-questions report from `KB_PATH` and returns the exit code (0, 1 on errors, 2 on
 * usage errors).
 *
 * @example
 * await runReportCli(['--days', '30'], { stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function runReportCli(argv: string[], io: ReportCliIO): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(`${await renderUsage(reportCommand)}\n`);
    return 0;
  }
  const parsed = parseArgs<typeof args>(argv, args);
  const limit = positiveInt(parsed.limit);
  const days = positiveInt(parsed.days);
  if (parsed._.length > 0 || limit === false || days === false) {
    io.stderr.write(
      `report: --limit and --days take positive whole numbers\n\n${await renderUsage(reportCommand)}\n`,
    );
    return 2;
  }
  let db;
  try {
    const config = loadConfig(io.env);
    db = openSqliteDatabase(config.kbPath);
    const rows = sqliteFeedbackStore(db).unanswered({ kb: parsed.kb, limit, since: sinceDays(days) });
    io.stdout.write(parsed.json ? rows.map((r) => `${JSON.stringify(r)}\n`).join('') : formatReport(rows));
    return 0;
  } catch (error) {
    io.stderr.write(`report: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    db?.close();
  }
}
