import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runReportCli } from '../src/cli/report.ts';
import type { AskResponse } from '../src/shared/protocol.ts';
import {
  createTestApp,
  expectError,
  openTestKnowledgeBase,
  postAsk,
  QUESTION,
  type TestKnowledgeBase,
} from './app-fixture.ts';
import { bearer, openTestAccess } from './access-fixture.ts';
import { createLogger } from '../src/log.ts';
import { startRetention } from '../src/store/retention.ts';

let kb: TestKnowledgeBase;
beforeEach(async () => {
  kb = await openTestKnowledgeBase();
});
afterEach(() => kb.close());

type App = ReturnType<typeof createTestApp>['app'];

async function ask(app: App, question: string): Promise<AskResponse> {
  const res = await postAsk(app, { question });
  expect(res.status).toBe(200);
  return (await res.json()) as AskResponse;
}

function rate(app: App, body: unknown, headers: Record<string, string> = {}) {
  return app.request('/feedback', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function unanswered(app: App, query = '') {
  const res = await app.request(`/admin/unanswered${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { questions: Record<string, unknown>[] }).questions;
}

describe('POST /feedback', () => {
  it('records a rating of an answer by its id: 204, and a later rating replaces it', async () => {
    const { app, logLines } = createTestApp(kb);
    const answer = await ask(app, QUESTION);
    expect((await rate(app, { answerId: answer.id, rating: 'down', comment: 'outdated' })).status).toBe(204);
    expect((await unanswered(app)).map((q) => q.thumbsDown)).toEqual([1]);
    expect((await rate(app, { answerId: answer.id, rating: 'up' })).status).toBe(204);
    expect(await unanswered(app)).toEqual([]);
    expect(logLines.filter((l) => l.route === '/feedback').map((l) => l.rating)).toEqual(['down', 'up']);
  });

  it('an unknown answer is a 404; a bad rating or comment a 400 naming the field', async () => {
    const { app } = createTestApp(kb);
    await expectError(await rate(app, { answerId: 'nope', rating: 'up' }), 404, 'not_found');
    const bad = await expectError(await rate(app, { answerId: 'x', rating: 'meh' }), 400, 'invalid_request');
    expect(bad.message).toMatch(/^rating: expected "up" or "down"/);
    const long = await expectError(
      await rate(app, { answerId: 'x', rating: 'up', comment: 'x'.repeat(2001) }),
      400,
      'invalid_request',
    );
    expect(long.message).toMatch(/^comment: must be at most 2000 characters/);
    await expectError(await rate(app, 'not json'), 400, 'invalid_request');
  });

  it('a key may only rate answers from the knowledge bases it covers', async () => {
    const access = openTestAccess(kb.dir);
    try {
      const { app } = createTestApp(kb, { access: access.store });
      const everything = access.key({ name: 'all' });
      const hrOnly = access.key({ name: 'hr-only', kbs: ['hr'] });
      const res = await postAsk(app, { question: QUESTION }, bearer(everything));
      const answer = (await res.json()) as AskResponse;
      const denied = await expectError(
        await rate(app, { answerId: answer.id, rating: 'down' }, bearer(hrOnly)),
        403,
        'forbidden',
      );
      expect(denied.message).toContain('"default"');
      expect((await rate(app, { answerId: answer.id, rating: 'down' }, bearer(everything))).status).toBe(204);
    } finally {
      access.close();
    }
  });

  it('asked questions and their ratings older than QUESTION_RETENTION_DAYS are deleted', async () => {
    const { app } = createTestApp(kb);
    const old = await ask(app, 'Where is the cafeteria?');
    await rate(app, { answerId: old.id, rating: 'down' });
    const day = 24 * 60 * 60 * 1000;
    const logger = createLogger({ level: 'silent' });
    const rules = [
      {
        what: 'asked questions',
        retentionDays: 365,
        deleteBefore: (d: Date) => kb.feedback.deleteAskedBefore(d),
      },
    ];
    startRetention({ rules, logger, now: () => Date.now() + 364 * day })();
    expect(await unanswered(app)).toHaveLength(1);

    startRetention({ rules, logger, now: () => Date.now() + 366 * day })();
    expect(await unanswered(app)).toEqual([]);
    // The rating went with its question (a foreign key would otherwise have refused the delete).
    await expectError(await rate(app, { answerId: old.id, rating: 'up' }), 404, 'not_found');
  });

  it('browsers may rate from the widget origins (CORS preflight), and not from others', async () => {
    const { app } = createTestApp(kb, { env: { WIDGET_ORIGINS: 'https://intranet.example' } });
    const preflight = await app.request('/feedback', {
      method: 'OPTIONS',
      headers: { Origin: 'https://intranet.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://intranet.example');
    const answer = await ask(app, QUESTION);
    await expectError(
      await rate(app, { answerId: answer.id, rating: 'up' }, { Origin: 'https://evil.example' }),
      403,
      'forbidden',
    );
  });
});

describe('the unanswered-questions report', () => {
  it('groups questions that found nothing or got a thumbs-down by normalised question, with counts', async () => {
    const { app } = createTestApp(kb);
    await ask(app, 'What is the vacation policy?');
    await ask(app, 'what is the  VACATION policy');
    await ask(app, 'What is the vacation policy？');
    const rated = await ask(app, QUESTION);
    await ask(app, 'How do I install it?');
    await rate(app, { answerId: rated.id, rating: 'down', comment: 'says nothing about S3' });

    const questions = await unanswered(app);
    expect(questions).toHaveLength(2);
    expect(questions[0]).toMatchObject({
      kb: 'default',
      normalized: 'what is the vacation policy',
      question: 'What is the vacation policy？',
      count: 3,
      notFound: 3,
      thumbsDown: 0,
    });
    expect(questions[1]).toMatchObject({
      normalized: 'how do i back up the database',
      count: 1,
      notFound: 0,
      thumbsDown: 1,
      lastComment: 'says nothing about S3',
    });
    expect(Date.parse(questions[0]!.lastAskedAt as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(await unanswered(app, '?limit=1')).toHaveLength(1);
    expect(await unanswered(app, '?kb=other')).toEqual([]);
    await expectError(await app.request('/admin/unanswered?limit=0'), 400, 'invalid_request');
  });

  it('counts answers served from the cache too: each asking is a gap', async () => {
    const { app } = createTestApp(kb);
    const first = await ask(app, 'Where is the cafeteria?');
    const second = await ask(app, 'Where is the cafeteria?');
    expect(second.cached).toBe(true);
    expect(second.id).not.toBe(first.id);
    expect((await unanswered(app))[0]).toMatchObject({ count: 2, notFound: 2 });
  });

  it('npm run report prints the same list as a table, or as JSON lines', async () => {
    const { app } = createTestApp(kb);
    await ask(app, 'Where is the cafeteria?');
    await ask(app, 'where is the cafeteria');
    const env = { KB_PATH: `${kb.dir}/kb.sqlite` };
    let out = '';
    const io = {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (out += t) },
      env,
    };
    expect(await runReportCli([], io)).toBe(0);
    const [header, row] = out.trim().split('\n');
    expect(header).toMatch(/^count\s+not found\s+down\s+last asked \(UTC\)\s+kb\s+question$/);
    expect(row).toMatch(/^2\s+2\s+0\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+default\s+where is the cafeteria$/);

    out = '';
    expect(await runReportCli(['--json', '--kb', 'default', '--days', '7'], io)).toBe(0);
    expect(JSON.parse(out.trim())).toMatchObject({ count: 2, normalized: 'where is the cafeteria' });

    out = '';
    expect(await runReportCli(['--limit', 'zero'], io)).toBe(2);
    expect(out).toMatch(/--limit and --days take positive whole numbers/);
  });
});
