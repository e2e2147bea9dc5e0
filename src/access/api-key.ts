import { createHash, randomBytes } from 'node:crypto';

/**
 * What an API key is, independent of where keys are stored: its kinds and tiers, the limits of each
 * tier, and how a secret is made and hashed. Only the hash of a secret is ever stored; the secret is
 * shown once, by `keys create`.
 */

/** `server`: backends calling the API; `widget`: public, bound to origins and knowledge bases; `admin`: also `/admin/*`. */
export const KEY_KINDS = ['server', 'widget', 'admin'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

export const TIERS = ['free', 'basic', 'premium'] as const;
export type Tier = (typeof TIERS)[number];

/**
 * Requests per UTC day and per minute of each tier; a key may override either (`--daily-limit`, `--rpm`).
 *
 * @example
 * TIER_LIMITS.basic.daily; // 1000
 */
export const TIER_LIMITS: Readonly<Record<Tier, { daily: number; perMinute: number }>> = {
  free: { daily: 100, perMinute: 10 },
  basic: { daily: 1000, perMinute: 60 },
  premium: { daily: 10000, perMinute: 300 },
};

/** A stored key: everything but the secret. */
export interface ApiKeyRecord {
  id: number;
  name: string;
  /** The first characters of the secret, to recognise a key in `keys list` without storing it. */
  prefix: string;
  kind: KeyKind;
  tier: Tier;
  /** Requests per UTC day; `undefined`: the tier's. */
  dailyLimit: number | undefined;
  /** Requests per minute; `undefined`: the tier's. */
  rpm: number | undefined;
  /** Knowledge bases the key may ask; empty: all. */
  kbs: string[];
  /** Browser origins (`scheme://host[:port]`) a widget key is honoured from. */
  origins: string[];
  createdAt: string;
  revokedAt: string | undefined;
}

/** What `AccessStore.createKey` stores. */
export type NewApiKey = Omit<ApiKeyRecord, 'id' | 'createdAt' | 'revokedAt'> & { hash: string };

/** Every secret starts with this, so scanners (and log redaction) can recognise one. */
export const KEY_PREFIX = 'kbk_';

/** Characters of the secret kept as `prefix`: the marker and 4 random ones, far too few to guess from. */
const SHOWN_CHARS = KEY_PREFIX.length + 4;

/**
 * A new random secret (`kbk_` and 43 base64url characters: 256 bits) with its hash and shown prefix.
 *
 * @example
 * const { secret, hash, prefix } = generateApiKey(); // secret 'kbk_3q2…', prefix 'kbk_3q2x'
 */
export function generateApiKey(): { secret: string; hash: string; prefix: string } {
  const secret = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { secret, hash: hashApiKey(secret), prefix: secret.slice(0, SHOWN_CHARS) };
}

/**
 * The stored form of a secret: sha256 hex. A fast hash is enough because secrets are 256 random bits,
 * not passwords: there is nothing to guess, and every request pays for the hash.
 *
 * @example
 * hashApiKey('kbk_abc'); // '5d2f…' (64 hex digits)
 */
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * The limits that apply to a key: its own overrides, else its tier's.
 *
 * @example
 * effectiveLimits({ tier: 'basic', dailyLimit: undefined, rpm: 5 }); // { daily: 1000, perMinute: 5 }
 */
export function effectiveLimits(key: Pick<ApiKeyRecord, 'tier' | 'dailyLimit' | 'rpm'>): {
  daily: number;
  perMinute: number;
} {
  const tier = TIER_LIMITS[key.tier];
  return { daily: key.dailyLimit ?? tier.daily, perMinute: key.rpm ?? tier.perMinute };
}
