import type { UsageRow } from '../access/access-store.ts';
import { effectiveLimits, type ApiKeyRecord } from '../access/api-key.ts';

/** Left-aligned columns separated by two spaces; the header is the first row. */
function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * `keys list`: one line per key with its effective limits and scope (`*` for every knowledge base).
 *
 * @example
 * formatKeyList(access.listKeys());
 * // NAME      KIND    TIER  PER DAY  PER MINUTE  KBS  ORIGINS  KEY       CREATED     STATUS
 * // intranet  server  free  100      10          *    -        kbk_AbCd  2026-01-02  active
 */
export function formatKeyList(keys: readonly ApiKeyRecord[]): string {
  if (keys.length === 0) return 'no keys: the service runs open (create one with `keys create --name NAME`)';
  const header = [
    'NAME',
    'KIND',
    'TIER',
    'PER DAY',
    'PER MINUTE',
    'KBS',
    'ORIGINS',
    'KEY',
    'CREATED',
    'STATUS',
  ];
  const rows = keys.map((k) => {
    const limits = effectiveLimits(k);
    return [
      k.name,
      k.kind,
      k.tier,
      String(limits.daily),
      String(limits.perMinute),
      k.kbs.length > 0 ? k.kbs.join(',') : '*',
      k.origins.length > 0 ? k.origins.join(',') : '-',
      `${k.prefix}…`,
      k.createdAt.slice(0, 10),
      k.revokedAt ? `revoked ${k.revokedAt.slice(0, 10)}` : 'active',
    ];
  });
  return table([header, ...rows]);
}

/**
 * `keys usage`: one line per key and day, newest first, and a total.
 *
 * @example
 * formatUsage(rows, '2026-01-01', '2026-01-30');
 */
export function formatUsage(rows: readonly UsageRow[], from: string, to: string): string {
  if (rows.length === 0) return `no usage from ${from} to ${to}`;
  const total = rows.reduce(
    (sum, r) => ({
      requests: sum.requests + r.requests,
      prompt: sum.prompt + r.promptTokens,
      completion: sum.completion + r.completionTokens,
    }),
    { requests: 0, prompt: 0, completion: 0 },
  );
  const lines = rows.map((r) => [
    r.day,
    r.key,
    String(r.requests),
    String(r.promptTokens),
    String(r.completionTokens),
  ]);
  return table([
    ['DAY', 'KEY', 'REQUESTS', 'PROMPT TOKENS', 'COMPLETION TOKENS'],
    ...lines,
    [`${from}..${to}`, 'total', String(total.requests), String(total.prompt), String(total.completion)],
  ]);
}
