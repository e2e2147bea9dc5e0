import { InvalidRequestError } from '../errors.ts';
import type { AccessStore } from './access-store.ts';
import { generateApiKey, KEY_KINDS, TIERS, type ApiKeyRecord, type KeyKind, type Tier } from './api-key.ts';
import { normaliseOrigin } from './authorize.ts';

/** What `keys create` asks for; undefined limits mean the tier's. */
export interface KeySpec {
  name: string;
  kind: KeyKind;
  tier: Tier;
  dailyLimit?: number;
  rpm?: number;
  kbs: string[];
  origins: string[];
}

/** Key names appear in logs, lists and `keys revoke NAME`: no spaces or commas. */
const KEY_NAME = /^[^\s,]{1,64}$/;

const isCount = (n: number | undefined): boolean => n === undefined || (Number.isSafeInteger(n) && n > 0);

/** An origin exactly as a browser sends it: `scheme://host[:port]`, nothing after. */
function originProblem(origin: string): string | undefined {
  const normalised = normaliseOrigin(origin);
  if (normalised === undefined || normalised !== origin.replace(/\/$/, '').toLowerCase()) {
    return `--origins: "${origin}" is not an origin like https://intranet.example or http://host:8080`;
  }
  return undefined;
}

/**
 * Every problem of a key spec at once ([] when it is valid). A widget key is public, so it must name the
 * origins and knowledge bases it is honoured for; other keys may not name origins (they are not bound to
 * browsers).
 *
 * @example
 * keySpecProblems({ name: 'site', kind: 'widget', tier: 'free', kbs: [], origins: [] });
 * // ['a widget key needs --origins', 'a widget key needs --kb']
 */
export function keySpecProblems(spec: KeySpec): string[] {
  const problems: string[] = [];
  if (!KEY_NAME.test(spec.name)) problems.push('--name: 1 to 64 characters, no spaces or commas');
  if (!KEY_KINDS.includes(spec.kind)) problems.push(`--kind: one of ${KEY_KINDS.join(', ')}`);
  if (!TIERS.includes(spec.tier)) problems.push(`--tier: one of ${TIERS.join(', ')}`);
  if (!isCount(spec.dailyLimit)) problems.push('--daily-limit: a whole number above 0');
  if (!isCount(spec.rpm)) problems.push('--rpm: a whole number above 0');
  for (const origin of spec.origins) {
    const problem = originProblem(origin);
    if (problem) problems.push(problem);
  }
  if (spec.kind === 'widget') {
    if (spec.origins.length === 0)
      problems.push('a widget key needs --origins (the pages it is honoured from)');
    if (spec.kbs.length === 0) problems.push('a widget key needs --kb (the knowledge bases it may ask)');
  } else if (spec.origins.length > 0) {
    problems.push('--origins only applies to widget keys');
  }
  return problems;
}

/**
 * Creates a key and returns its secret, which is not stored anywhere: show it once.
 *
 * @throws InvalidRequestError listing every problem of the spec; AppError 409 `key_exists`
 * @example
 * const { secret, key } = createApiKey(access, { name: 'intranet', kind: 'server', tier: 'basic', kbs: [], origins: [] });
 */
export function createApiKey(store: AccessStore, spec: KeySpec): { secret: string; key: ApiKeyRecord } {
  const problems = keySpecProblems(spec);
  if (problems.length > 0) throw new InvalidRequestError(problems.join('; '));
  const { secret, hash, prefix } = generateApiKey();
  const key = store.createKey({
    name: spec.name,
    hash,
    prefix,
    kind: spec.kind,
    tier: spec.tier,
    dailyLimit: spec.dailyLimit,
    rpm: spec.rpm,
    kbs: [...new Set(spec.kbs)],
    origins: [...new Set(spec.origins.map((o) => normaliseOrigin(o)!))],
  });
  return { secret, key };
}
