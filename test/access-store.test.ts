import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateLimit } from '../src/access/access-store.ts';
import { effectiveLimits } from '../src/access/api-key.ts';
import { warnIfOpen } from '../src/access/open-warning.ts';
import { secondsUntilReset, windowsAt } from '../src/access/windows.ts';
import { createLogger } from '../src/log.ts';
import { openSqliteDatabase } from '../src/store/sqlite.ts';
import { sqliteAccessStore } from '../src/store/sqlite-access.ts';
import { openTestAccess, type TestAccess } from './access-fixture.ts';

let dir: string;
let access: TestAccess;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-access-'));
  access = openTestAccess(dir);
});
afterEach(() => {
  access.close();
  rmSync(dir, { recursive: true, force: true });
});

const minute = (subject: string, limit: number, windowStart = 0): RateLimit => ({
  subject,
  period: 'minute',
  windowStart,
  limit,
});

describe('the SQLite access store', () => {
  it('counts a request against every limit only when all of them pass', () => {
    const { store } = access;
    expect(store.consume([minute('a', 1), minute('b', 5)])).toBeUndefined();
    // `a` is full: `b` must not be counted for the refused request.
    expect(store.consume([minute('b', 5), minute('a', 1)])).toMatchObject({ subject: 'a' });
    for (let i = 0; i < 4; i++) expect(store.consume([minute('b', 5)])).toBeUndefined();
    expect(store.consume([minute('b', 5)])).toMatchObject({ subject: 'b' });
  });

  it('starts a counter again in a new window', () => {
    const { store } = access;
    expect(store.consume([minute('a', 1, 0)])).toBeUndefined();
    expect(store.consume([minute('a', 1, 0)])).toBeDefined();
    expect(store.consume([minute('a', 1, 60_000)])).toBeUndefined();
  });

  it('shares counters between two connections to the same file (two processes)', () => {
    const db = openSqliteDatabase(access.file);
    try {
      const other = sqliteAccessStore(db);
      let admitted = 0;
      for (let i = 0; i < 10; i++) {
        for (const store of [access.store, other]) if (!store.consume([minute('shared', 7)])) admitted++;
      }
      expect(admitted).toBe(7);
    } finally {
      db.close();
    }
  });
});

describe('limits and windows', () => {
  it('take a key override over its tier', () => {
    expect(effectiveLimits({ tier: 'free', dailyLimit: undefined, rpm: undefined })).toEqual({
      daily: 100,
      perMinute: 10,
    });
    expect(effectiveLimits({ tier: 'basic', dailyLimit: undefined, rpm: undefined }).daily).toBe(1000);
    expect(effectiveLimits({ tier: 'premium', dailyLimit: 5, rpm: 7 })).toEqual({ daily: 5, perMinute: 7 });
  });

  it('reset at the next UTC minute and midnight', () => {
    const now = Date.parse('2026-03-10T23:59:45.500Z');
    const w = windowsAt(now);
    expect(w.day).toBe('2026-03-10');
    expect(secondsUntilReset('minute', w.minuteStart, now)).toBe(15);
    expect(secondsUntilReset('day', w.dayStart, now)).toBe(15);
  });
});

describe('start-up', () => {
  it('warns loudly while no key exists, and says nothing once one does', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'info', write: (line) => lines.push(JSON.parse(line)) });
    const settings = { openIpRpm: 30, openIpDailyLimit: 1000, widgetClientRpm: 6, trustProxy: false };
    warnIfOpen(access.store, settings, logger);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', openAccess: true });
    expect(String(lines[0]!.msg)).toContain('NO API KEYS');
    access.key({ name: 'first' });
    warnIfOpen(access.store, settings, logger);
    expect(lines).toHaveLength(1);
  });
});

describe('counter housekeeping', () => {
  it('drops the counters of past windows now and then, keeping the current ones', () => {
    const { store, db } = access;
    for (let i = 0; i < 999; i++) store.consume([minute(`old-${i}`, 5, 0)]);
    store.consume([minute('current', 5, 60_000)]);
    const rows = db.prepare('SELECT subject FROM rate_counters').all() as { subject: string }[];
    expect(rows).toEqual([{ subject: 'current' }]);
  });
});
