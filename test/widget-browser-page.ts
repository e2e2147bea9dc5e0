/**
 * Browser helpers of the widget's end-to-end test: launching Chromium and finding the widget's parts in a
 * page. Playwright's locators pierce open shadow roots, so CSS and role selectors reach inside
 * `<kb-answers-widget>`.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { HOST_RESOLVER_RULES } from './widget-browser-env.ts';

/** Debian's Chromium; tests never download a browser. */
const CHROMIUM = '/usr/bin/chromium';

/**
 * Starts Debian's Chromium headless, with `*.test` host names mapped to this machine (see
 * widget-browser-env.ts). Fails with the install command when it is missing.
 *
 * @example
 * const browser = await launchChromium();
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no browser at ${CHROMIUM}: install Debian's with \`apt-get install -y chromium fonts-wqy-microhei\``,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      HOST_RESOLVER_RULES,
    ],
  });
}

/** Locators pierce open shadow roots, so these find the widget's parts inside `<kb-answers-widget>`. */
export const widget = (page: Page) => page.locator('kb-answers-widget');
export const lastAnswer = (page: Page) => widget(page).locator('.kb-bot').last();

/** Resolves once the widget is not receiving an answer any more. */
export async function answerEnded(page: Page): Promise<void> {
  await widget(page).locator('.kb-log[aria-busy="false"]').waitFor({ state: 'attached' });
}

/** The accessible name (aria-label) of the focused element inside the widget, or its tag name. */
export function focusedInWidget(page: Page): Promise<string | undefined> {
  return page.evaluate(() => {
    const inner = document.querySelector('kb-answers-widget')?.shadowRoot?.activeElement;
    return inner ? (inner.getAttribute('aria-label') ?? inner.tagName.toLowerCase()) : undefined;
  });
}

/** Records every text the last answer shows while it streams, to tell arrival in pieces from all at once. */
export async function recordAnswerTexts(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const root = document.querySelector('kb-answers-widget')!.shadowRoot!;
    const seen: string[] = [];
    (window as unknown as { __texts: string[] }).__texts = seen;
    new MutationObserver(() => {
      const answers = root.querySelectorAll('.kb-bot .kb-md');
      const text = answers[answers.length - 1]?.textContent ?? '';
      if (text && text !== seen[seen.length - 1]) seen.push(text);
    }).observe(root, { childList: true, subtree: true, characterData: true });
  });
  return () => page.evaluate(() => (window as unknown as { __texts: string[] }).__texts);
}
