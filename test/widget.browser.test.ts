import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLIES, startWidgetTestEnv, type WidgetTestEnv } from './widget-browser-env.ts';
import {
  answerEnded,
  focusedInWidget,
  lastAnswer,
  launchChromium,
  recordAnswerTexts,
  widget,
} from './widget-browser-page.ts';

/**
 * The widget end to end in a real Chromium (Debian's, at /usr/bin/chromium; never downloaded): embedded in
 * intranet pages of another origin, talking to the real service over real sockets, with the model faked
 * at its HTTP boundary. Screenshots go to test-results/ (ignored by git).
 */

let env: WidgetTestEnv;
let browser: Browser;

beforeAll(async () => {
  env = await startWidgetTestEnv();
  browser = await launchChromium();
  mkdirSync('test-results', { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await env?.close();
});

async function newContext(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1100, height: 760 }, locale: 'en-US', ...options });
}

describe('on an allowed intranet page', () => {
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    context = await newContext();
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
  });

  it('opens from the launcher, streams an answer in pieces, and links its citations to clickable sources', async () => {
    await page.goto(env.pageUrl());
    const launcher = page.getByRole('button', { name: 'Open the knowledge base assistant' });
    await launcher.click();
    await page.getByRole('dialog', { name: 'Ask the knowledge base' }).waitFor();
    expect(await focusedInWidget(page)).toBe('Your question');

    const texts = await recordAnswerTexts(page);
    const input = page.getByRole('textbox', { name: 'Your question' });
    await input.fill('How many days of annual leave do I get?');
    await input.press('Enter');
    expect(await input.inputValue()).toBe('');
    await widget(page).getByRole('button', { name: 'Stop' }).waitFor();
    await answerEnded(page);

    // Streamed: the text grew through several intermediate states, each a prefix of the next.
    const seen = await texts();
    // (Not strict prefixes: `**15` shows as typed until its closing `**` arrives and makes it bold.)
    expect(seen.length).toBeGreaterThan(3);
    expect(seen[0]!.length).toBeLessThan(seen.at(-1)!.length / 2);
    expect(seen.at(-1)).toContain('Employees get 15 days of annual leave per year');

    const answer = lastAnswer(page);
    expect(await answer.locator('strong').first().textContent()).toBe('15 days');
    expect(await answer.locator('.kb-md li').allTextContents()).toEqual([
      'Request leave in the HR portal',
      'Ask at least two weeks ahead 1',
    ]);
    expect(await widget(page).getByRole('log').getAttribute('aria-live')).toBe('polite');

    const source = answer.locator('.kb-source').first();
    const link = source.getByRole('link', { name: 'Annual leave' });
    expect(await link.getAttribute('href')).toBe(`${env.intranetUrl}/docs/en/leave.md`);
    expect(await link.getAttribute('rel')).toBe('noopener');
    expect(await source.locator('.kb-source-heading').textContent()).toContain('How many days');

    await page.screenshot({ path: 'test-results/widget.png' });

    // A citation marker moves to its source.
    await answer.getByRole('button', { name: 'Source 1: Annual leave' }).first().click();
    expect(
      await source.evaluate(
        (li) => li.classList.contains('kb-flash') && li.getRootNode() instanceof ShadowRoot,
      ),
    ).toBe(true);

    const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
    await tab.waitForLoadState();
    expect(tab.url()).toBe(`${env.intranetUrl}/docs/en/leave.md`);
    expect(await tab.evaluate(() => window.opener)).toBeNull();
    await tab.close();
  });

  it('shows thumbs up and down under each answer, and sends the rating to POST /feedback', async () => {
    const answer = lastAnswer(page);
    const up = answer.getByRole('button', { name: 'Helpful', exact: true });
    const down = answer.getByRole('button', { name: 'Not helpful' });
    expect(await up.getAttribute('aria-pressed')).toBe('false');
    const before = env.served.length;
    await down.click();
    await expect.poll(() => down.getAttribute('aria-pressed')).toBe('true');
    await expect
      .poll(() =>
        env.served
          .slice(before)
          .filter((r) => r.path === '/feedback')
          .map((r) => r.status),
      )
      .toEqual([204]);
    expect(await up.getAttribute('aria-pressed')).toBe('false');
  });

  it('keeps the conversation across a reload and sends it as history with the next question', async () => {
    await page.reload();
    await page.getByRole('button', { name: 'Open the knowledge base assistant' }).click();
    expect(await widget(page).locator('.kb-user').allTextContents()).toEqual([
      'You: How many days of annual leave do I get?',
    ]);
    expect(await lastAnswer(page).locator('.kb-md').textContent()).toContain('Employees get 15 days');

    await page.getByRole('textbox', { name: 'Your question' }).fill('And how do I request it?');
    await page.getByRole('button', { name: 'Send' }).click();
    await answerEnded(page);
    const messages = env.fake.requestsTo('chat').at(-1)!.body.messages as { role: string; content: string }[];
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[1]!.content).toBe('How many days of annual leave do I get?');
    expect(messages[2]!.content).toBe(REPLIES.en);
  });

  it('starts a new conversation, and shows a not-found answer as such', async () => {
    await widget(page).getByRole('button', { name: 'New conversation' }).click();
    expect(await widget(page).locator('.kb-turn').count()).toBe(0);
    expect(await widget(page).locator('.kb-welcome').isVisible()).toBe(true);

    await page
      .getByRole('textbox', { name: 'Your question' })
      .fill('What is the airspeed velocity of an unladen swallow?');
    await page.keyboard.press('Enter');
    await answerEnded(page);
    const answer = lastAnswer(page);
    expect(await answer.getAttribute('class')).toContain('kb-notfound');
    expect(await answer.locator('.kb-badge').textContent()).toBe('Not in the knowledge base');
    expect(await answer.locator('.kb-md').textContent()).toBe("I couldn't find this in the knowledge base.");
    expect(await answer.locator('.kb-sources').count()).toBe(0);

    await page.reload();
    await page.getByRole('button', { name: 'Open the knowledge base assistant' }).click();
    expect(await widget(page).locator('.kb-turn').count()).toBe(1);
  });

  it('stops an answer with the Stop button, which cancels the model request', async () => {
    const chats = env.fake.requestsTo('chat').length;
    await page
      .getByRole('textbox', { name: 'Your question' })
      .fill('How do I request annual leave? Explain slowly, step by step');
    await page.keyboard.press('Enter');
    await lastAnswer(page).locator('.kb-md').waitFor();
    await widget(page).getByRole('button', { name: 'Stop' }).click();
    await answerEnded(page);
    expect(await lastAnswer(page).locator('.kb-note').textContent()).toBe('Stopped');
    expect(await focusedInWidget(page)).toBe('Your question');
    await env.fake.waitUntil(
      () => env.fake.requestsTo('chat').length > chats && env.fake.requestsTo('chat').at(-1)!.aborted,
      5000,
    );
    expect((await lastAnswer(page).locator('.kb-md').textContent())!.length).toBeLessThan(
      REPLIES.long.length,
    );
  });

  it('supports Shift+Enter for a new line, Esc to close, and returns focus to the launcher', async () => {
    const input = page.getByRole('textbox', { name: 'Your question' });
    await input.fill('');
    await input.press('a');
    await input.press('Shift+Enter');
    await input.press('b');
    expect(await input.inputValue()).toBe('a\nb');
    await input.press('Escape');
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(await focusedInWidget(page)).toBe('Open the knowledge base assistant');
    expect(
      await page
        .getByRole('button', { name: 'Open the knowledge base assistant' })
        .getAttribute('aria-expanded'),
    ).toBe('false');
  });

  it('renders hostile answer text as inert text, with no element, script or link made of it', async () => {
    await page.evaluate(() => window.KbWidget!.ask('How many days of annual leave do I get? (inject)'));
    const answer = lastAnswer(page);
    expect(await answer.locator('.kb-md').textContent()).toContain('<img src=x onerror="window.__pwned=1">');
    expect(await answer.locator('.kb-md').textContent()).toContain('<script>window.__pwned=3</script>');
    expect(await answer.locator('.kb-md img, .kb-md script').count()).toBe(0);
    expect(await answer.locator('.kb-md a').count()).toBe(0);
    expect(await answer.locator('.kb-md strong').textContent()).toBe('still bold');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });
});

it('speaks Simplified Chinese with data-lang="zh-CN" and answers a Chinese question', async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(env.pageUrl({ lang: 'zh-CN' }));
  await page.getByRole('button', { name: '打开知识库助手' }).click();
  await page.getByRole('dialog', { name: '知识库问答' }).waitFor();
  const input = page.getByRole('textbox', { name: '你的问题' });
  expect(await input.getAttribute('placeholder')).toBe('输入你的问题…');
  expect(await widget(page).locator('.kb-hint').textContent()).toBe('Enter 发送 · Shift+Enter 换行');
  expect(await widget(page).getByRole('button', { name: '新对话' }).count()).toBe(1);

  await input.fill('我每年有几天年假？');
  await input.press('Enter');
  await answerEnded(page);
  const answer = lastAnswer(page);
  expect(await answer.locator('.kb-md').textContent()).toContain('员工每年有 十五天 年假');
  expect(await answer.locator('.kb-sources-title').textContent()).toBe('来源');
  expect(await answer.getByRole('link', { name: '年假' }).count()).toBeGreaterThan(0);
  expect(await answer.getByRole('button', { name: '来源 1: 年假' }).count()).toBeGreaterThan(0);
  await page.screenshot({ path: 'test-results/widget-zh.png' });
  await context.close();
});

it('refuses a page whose origin is not in WIDGET_ORIGINS: the server answers 403 and the widget shows an error', async () => {
  const context = await newContext();
  const page = await context.newPage();
  const before = env.served.length;
  await page.goto(env.pageUrl({ site: 'elsewhere' }));
  await page.evaluate(() => window.KbWidget!.ask('How many days of annual leave do I get?'));
  const answer = lastAnswer(page);
  expect(await answer.getAttribute('class')).toContain('kb-failed');
  expect(await answer.locator('.kb-error-text').textContent()).toBe('Could not reach the knowledge base.');

  const refused = env.served.slice(before).filter((r) => r.path === '/ask');
  expect(refused).toEqual([
    {
      method: 'POST',
      path: '/ask',
      origin: expect.stringMatching(/^http:\/\/elsewhere\.test:\d+$/),
      status: 403,
    },
  ]);

  // Retry asks again (and is refused again).
  await answer.getByRole('button', { name: 'Retry' }).click();
  await answerEnded(page);
  expect(await widget(page).locator('.kb-turn').count()).toBe(1);
  expect(env.served.slice(before).filter((r) => r.path === '/ask' && r.status === 403)).toHaveLength(2);
  await context.close();
});

it('still works on a page whose CSS tries to hide and restyle everything', async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(env.pageUrl({ hostile: true }));
  expect(await page.locator('h1').isVisible()).toBe(false);

  const launcher = page.getByRole('button', { name: 'Open the knowledge base assistant' });
  const box = await launcher.boundingBox();
  expect(box).toEqual({ x: 1100 - 20 - 56, y: 760 - 20 - 56, width: 56, height: 56 });
  await launcher.click();
  const input = page.getByRole('textbox', { name: 'Your question' });
  expect(await input.evaluate((el) => getComputedStyle(el).fontSize)).toBe('15px');
  expect(await input.evaluate((el) => getComputedStyle(el).color)).not.toBe('rgb(255, 0, 0)');
  await input.fill('How many days of annual leave do I get?');
  await input.press('Enter');
  await answerEnded(page);
  expect(await lastAnswer(page).locator('.kb-md').isVisible()).toBe(true);
  expect(await lastAnswer(page).locator('.kb-md').textContent()).toContain('15 days');
  expect(await widget(page).evaluate((host) => getComputedStyle(host).opacity)).toBe('1');
  await page.screenshot({ path: 'test-results/widget-hostile-css.png' });
  await context.close();
});

it('does nothing when the script is included twice', async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(env.pageUrl({ twice: true }));
  await page.waitForFunction(() => document.querySelector('kb-answers-widget'));
  expect(await widget(page).count()).toBe(1);
  expect(await page.evaluate(() => Object.keys(window.KbWidget!).sort())).toEqual(['ask', 'close', 'open']);
  await page.evaluate(() => window.KbWidget!.open());
  expect(await page.getByRole('dialog').count()).toBe(1);
  await context.close();
});

it('fills a narrow screen and follows a dark colour scheme', async () => {
  const context = await newContext({ viewport: { width: 390, height: 760 }, colorScheme: 'dark' });
  const page = await context.newPage();
  await page.goto(env.pageUrl());
  await page.getByRole('button', { name: 'Open the knowledge base assistant' }).click();
  const dialog = page.getByRole('dialog');
  expect(await dialog.boundingBox()).toEqual({ x: 0, y: 0, width: 390, height: 760 });
  expect(await dialog.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(24, 27, 34)');
  await page.getByRole('textbox', { name: 'Your question' }).fill('How many days of annual leave do I get?');
  await page.keyboard.press('Enter');
  await answerEnded(page);
  await page.screenshot({ path: 'test-results/widget-mobile-dark.png' });
  await widget(page).getByRole('button', { name: 'Close', exact: true }).click();
  expect(await dialog.count()).toBe(0);
  await context.close();
});

it('takes its settings from the script tag: open on load, position, colour, title, and a key sent after a preflight', async () => {
  const context = await newContext();
  const page = await context.newPage();
  const before = env.served.length;
  await page.goto(
    env.pageUrl({
      attributes: {
        'data-open': '',
        'data-position': 'bottom-left',
        'data-primary-color': '#0a7d32',
        'data-title': 'HR help',
        'data-placeholder': 'Ask HR…',
        'data-key': 'widget-key-1',
      },
    }),
  );
  const dialog = page.getByRole('dialog', { name: 'HR help' });
  await dialog.waitFor();
  // Opening on load leaves the page's focus alone.
  expect(await focusedInWidget(page)).toBeUndefined();
  expect(await page.getByRole('textbox', { name: 'Your question' }).getAttribute('placeholder')).toBe(
    'Ask HR…',
  );
  const launcher = page.getByRole('button', { name: 'Close the knowledge base assistant' });
  expect((await launcher.boundingBox())!.x).toBe(20);
  expect(await launcher.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(10, 125, 50)');

  await page.evaluate(() => window.KbWidget!.ask('How many days of annual leave do I get?'));
  expect(await lastAnswer(page).locator('.kb-md').textContent()).toContain('15 days');
  // The Authorization header makes the request non-simple: the browser asked first, and was answered.
  const asks = env.served.slice(before).filter((r) => r.path === '/ask');
  expect(asks.map((r) => `${r.method} ${r.status}`)).toEqual(['OPTIONS 204', 'POST 200']);
  await context.close();
});
