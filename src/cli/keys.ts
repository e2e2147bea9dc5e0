import { defineCommand, parseArgs, renderUsage, type ArgsDef, type CommandDef } from 'citty';
import type { AccessStore } from '../access/access-store.ts';
import type { KeyKind, Tier } from '../access/api-key.ts';
import { createApiKey, keySpecProblems, type KeySpec } from '../access/create-key.ts';
import { daysBefore, utcDay } from '../access/windows.ts';
import { loadConfig } from '../config.ts';
import { DEFAULT_USAGE_DAYS } from '../routes/admin-usage.ts';
import { openSqliteDatabase } from '../store/sqlite.ts';
import { sqliteAccessStore } from '../store/sqlite-access.ts';
import { formatKeyList, formatUsage } from './keys-format.ts';

const createArgs = {
  name: {
    type: 'string',
    description: 'Name shown in lists, usage and logs',
    required: true,
    valueHint: 'NAME',
  },
  kind: { type: 'string', description: 'server, widget or admin', default: 'server', valueHint: 'KIND' },
  tier: {
    type: 'string',
    description: 'free (100/day), basic (1000/day) or premium (10000/day)',
    default: 'free',
    valueHint: 'TIER',
  },
  'daily-limit': { type: 'string', description: "Requests per UTC day; default the tier's", valueHint: 'N' },
  rpm: {
    type: 'string',
    description: "Requests per minute; default the tier's (10, 60, 300)",
    valueHint: 'N',
  },
  kb: {
    type: 'string',
    description: 'Knowledge bases the key may ask, comma-separated; default all',
    valueHint: 'a,b',
  },
  origins: {
    type: 'string',
    description: 'Widget keys: page origins it is honoured from',
    valueHint: 'https://a.example,…',
  },
} satisfies ArgsDef;
const nameArg = { name: { type: 'positional', description: 'Key name', required: true } } satisfies ArgsDef;
const usageArgs = {
  name: { type: 'positional', description: 'Key name; default every key', required: false },
} satisfies ArgsDef;

/**
 * The commands as data: `keys create|list|revoke|usage`; `runKeysCli` runs them.
 *
 * @example
 * await renderUsage(keysCommand); // the help text
 */
export const keysCommand = defineCommand({
  meta: { name: 'keys', description: 'Manage API keys: create, list, revoke, and show usage.' },
  subCommands: {
    create: defineCommand({
      meta: { name: 'create', description: 'Create a key and print it once (only its hash is stored)' },
      args: createArgs,
    }),
    list: defineCommand({ meta: { name: 'list', description: 'List keys with their limits and scope' } }),
    revoke: defineCommand({
      meta: { name: 'revoke', description: 'Revoke a key: it stops working at once' },
      args: nameArg,
    }),
    usage: defineCommand({
      meta: {
        name: 'usage',
        description: `Requests and tokens per key and day (last ${DEFAULT_USAGE_DAYS} days)`,
      },
      args: usageArgs,
    }),
  },
});

export interface KeysCliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

type Subcommand = 'create' | 'list' | 'revoke' | 'usage';
const ARGS: Record<Subcommand, ArgsDef> = { create: createArgs, list: {}, revoke: nameArg, usage: usageArgs };

class UsageError extends Error {}

const listOf = (value: unknown): string[] =>
  value === undefined
    ? []
    : String(value)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
const countOf = (value: unknown): number | undefined => (value === undefined ? undefined : Number(value));

/** The subcommand's arguments, or a `UsageError` naming every problem. */
function parse(sub: Subcommand, argv: string[]): Record<string, unknown> & { _: string[] } {
  let parsed: Record<string, unknown> & { _: string[] };
  try {
    parsed = parseArgs(argv, ARGS[sub]) as typeof parsed;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const known = new Set(['_', ...Object.keys(ARGS[sub]), 'dailyLimit']);
  const problems = Object.keys(parsed)
    .filter((k) => !known.has(k))
    .map((k) => `unknown option --${k}`);
  const positionals = Object.values(ARGS[sub]).filter((a) => a.type === 'positional').length;
  if (parsed._.length > positionals) problems.push(`unexpected argument "${parsed._[positionals]}"`);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return parsed;
}

function specOf(parsed: Record<string, unknown>): KeySpec {
  const spec: KeySpec = {
    name: String(parsed.name ?? ''),
    kind: String(parsed.kind) as KeyKind,
    tier: String(parsed.tier) as Tier,
    dailyLimit: countOf(parsed['daily-limit']),
    rpm: countOf(parsed.rpm),
    kbs: listOf(parsed.kb),
    origins: listOf(parsed.origins),
  };
  const problems = keySpecProblems(spec);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return spec;
}

function run(
  sub: Subcommand,
  parsed: Record<string, unknown> & { _: string[] },
  store: AccessStore,
  io: KeysCliIO,
): number {
  const now = (io.now ?? Date.now)();
  if (sub === 'create') {
    const { secret, key } = createApiKey(store, specOf(parsed));
    // The secret alone on stdout, so `KEY=$(npm run -s keys -- create …)` captures it.
    io.stderr.write(
      `created ${key.kind} key "${key.name}" (tier ${key.tier}); it is shown only this once:\n`,
    );
    io.stdout.write(`${secret}\n`);
    return 0;
  }
  if (sub === 'list') {
    io.stdout.write(`${formatKeyList(store.listKeys())}\n`);
    return 0;
  }
  const name = parsed._[0];
  if (sub === 'revoke') {
    if (!store.revokeKey(String(name), new Date(now))) {
      io.stderr.write(`keys: no active key named "${name}"\n`);
      return 1;
    }
    io.stdout.write(`revoked key "${name}"\n`);
    return 0;
  }
  if (name !== undefined && !store.getKey(name)) {
    io.stderr.write(`keys: no key named "${name}"\n`);
    return 1;
  }
  const from = daysBefore(now, DEFAULT_USAGE_DAYS);
  const to = utcDay(now);
  const rows = store.usage({ from, to, ...(name === undefined ? {} : { keyName: name }) });
  io.stdout.write(`${formatUsage(rows, from, to)}\n`);
  return 0;
}

async function usageText(sub?: Subcommand): Promise<string> {
  const subCommands = keysCommand.subCommands as Record<Subcommand, CommandDef>;
  return `${await renderUsage(sub ? subCommands[sub] : keysCommand, sub ? keysCommand : undefined)}\n`;
}

/**
 * Runs `keys create|list|revoke|usage` against the database of `KB_PATH` and returns the exit code: 0 on
 * success, 1 when the key does not exist or the database cannot be used, 2 on usage errors. Nothing here
 * touches `process`; `keys-main.ts` owns argv and the exit code.
 *
 * @example
 * await runKeysCli(['create', '--name', 'intranet', '--tier', 'basic'], { stdout, stderr, env: process.env });
 */
export async function runKeysCli(argv: string[], io: KeysCliIO): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    (first === undefined ? io.stderr : io.stdout).write(await usageText());
    return first === undefined ? 2 : 0;
  }
  if (!(first in ARGS)) {
    io.stderr.write(`keys: unknown command "${first}"\n\n${await usageText()}`);
    return 2;
  }
  const sub = first as Subcommand;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(await usageText(sub));
    return 0;
  }
  let parsed;
  try {
    parsed = parse(sub, rest);
    if (sub === 'create') specOf(parsed);
    if (sub === 'revoke' && parsed._.length === 0)
      throw new UsageError('missing the name of the key to revoke');
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`keys ${sub}: ${error.message}\n\n${await usageText(sub)}`);
    return 2;
  }
  let db;
  try {
    db = openSqliteDatabase(loadConfig(io.env).kbPath);
    return run(sub, parsed, sqliteAccessStore(db), io);
  } catch (error) {
    io.stderr.write(`keys ${sub}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    db?.close();
  }
}
