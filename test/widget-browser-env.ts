/**
 * What the widget's browser test runs against: the real service on a real socket (a knowledge base built
 * from English and Chinese Markdown, the fake OpenAI server streaming slowly), and a second HTTP server
 * playing the intranet pages that embed the widget.
 *
 * Origins. Everything listens on 127.0.0.1, but the browser is started with a host resolver rule mapping
 * `*.test` to 127.0.0.1, so pages have real, non-loopback origins: the service is `http://kb.test:P`, the
 * allowed intranet is `http://intranet.test:Q` (in `WIDGET_ORIGINS`), and `http://elsewhere.test:Q` is
 * a site that is not on the list. The refusal is thus tested with the service's real default rules
 * (loopback pages stay allowed for local development), not with a test-only mode.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { ingestDirectory } from '../ingest/run.ts';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { createChatModel } from '../src/llm/chat.ts';
import { createOpenAIClient } from '../src/llm/client.ts';
import { createLogger } from '../src/log.ts';
import { openSqliteDatabase, sqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import type { FeedbackStore } from '../src/feedback/feedback-store.ts';
import { sqliteFeedbackStore } from '../src/feedback/sqlite-feedback-store.ts';
import { buildWidget } from '../src/widget/build.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

/** Chromium's flag mapping the test's host names to this machine (ports are kept). */
export const HOST_RESOLVER_RULES = '--host-resolver-rules=MAP *.test 127.0.0.1';

/** One request the service answered, as the test sees it. */
export interface ServedRequest {
  method: string;
  path: string;
  origin: string | undefined;
  status: number;
}

export interface HostPageOptions {
  /** `intranet` is on `WIDGET_ORIGINS`; `elsewhere` is not. Default `intranet`. */
  site?: 'intranet' | 'elsewhere';
  /** `data-lang` of the script tag. */
  lang?: string;
  /** Add a stylesheet that tries to hide and restyle everything. */
  hostile?: boolean;
  /** Include the script tag twice. */
  twice?: boolean;
  /** More attributes for the script tag, e.g. `{ 'data-open': '' }`. */
  attributes?: Record<string, string>;
}

export interface WidgetTestEnv {
  /** `http://kb.test:PORT`: the service, as pages see it. */
  kbUrl: string;
  /** `http://intranet.test:PORT`: the allowed intranet. */
  intranetUrl: string;
  /** A host page embedding the widget. */
  pageUrl(options?: HostPageOptions): string;
  fake: FakeOpenAI;
  /** Every request the service answered, in order. */
  served: ServedRequest[];
  close(): Promise<void>;
}

/** What the fake model answers, chosen by the question at the end of the prompt. */
export const REPLIES = {
  en: 'Employees get **15 days** of annual leave per year [1].\n\n- Request leave in the HR portal\n- Ask at least two weeks ahead [1]',
  zh: '员工每年有 **十五天** 年假 [1]。\n\n- 在人事系统中申请\n- 至少提前两周 [1]',
  hostile:
    'Look: <img src=x onerror="window.__pwned=1"> [click me](javascript:window.__pwned=2) ' +
    '<script>window.__pwned=3</script> [data](data:text/html,<b>x</b>) **still bold** [1]',
  long: Array.from({ length: 60 }, (_, i) => `Step ${i + 1}: request the leave in the HR portal [1].`).join(
    ' ',
  ),
};

function replyFor(prompt: string): string {
  const question = prompt.slice(prompt.lastIndexOf('Question: ') + 'Question: '.length);
  if (/[\u4e00-\u9fff]/.test(question)) return REPLIES.zh;
  if (question.includes('inject')) return REPLIES.hostile;
  if (question.includes('slowly')) return REPLIES.long;
  return REPLIES.en;
}

const HOSTILE_CSS = `
  body > * { display: none !important; }
  * { font-size: 40px !important; line-height: 5 !important; letter-spacing: 4px !important; color: red !important;
      font-family: "Comic Sans MS", cursive !important; text-transform: uppercase !important; }
  button, div, textarea, section, form, p, ol, ul, li, a, span, h2, svg {
    display: none !important; background: yellow !important; border: 9px solid lime !important; }
  kb-answers-widget { opacity: 0 !important; transform: scale(.1) !important; filter: blur(9px) !important; }
`;

function hostPage(kbUrl: string, url: URL): string {
  const attributes: Record<string, string> = JSON.parse(url.searchParams.get('attributes') ?? '{}');
  const lang = url.searchParams.get('lang');
  if (lang) attributes['data-lang'] = lang;
  const extra = Object.entries(attributes)
    .map(([name, value]) => ` ${name}="${value.replace(/[<>&"]/g, '')}"`)
    .join('');
  const tag = `<script src="${kbUrl}/widget.js" data-kb="hr"${extra} defer></script>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Intranet</title>
<style>body { font-family: Georgia, serif; margin: 40px; background: #fbfaf7; }${url.searchParams.has('hostile') ? HOSTILE_CSS : ''}</style>
</head><body><h1>Intranet home</h1><p>Welcome. The help assistant is in the corner.</p>
${tag}${url.searchParams.has('twice') ? tag : ''}</body></html>`;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

function writeDocs(dir: string): void {
  mkdirSync(join(dir, 'en'));
  mkdirSync(join(dir, 'zh'));
  writeFileSync(
    join(dir, 'en', 'leave.md'),
    '# Annual leave\n\n## How many days\n\nEmployees get 15 days of annual leave per year. ' +
      'Request leave in the HR portal at least two weeks ahead.\n',
  );
  writeFileSync(
    join(dir, 'zh', 'leave.md'),
    '# 年假\n\n## 天数\n\n员工每年享有十五天年假。请至少提前两周在人事系统中申请年假。\n',
  );
}

/** The service the way `main.ts` builds it, widget included. */
async function serviceApp(
  store: Store,
  feedback: FeedbackStore,
  fake: FakeOpenAI,
  dir: string,
  intranetUrl: string,
  served: ServedRequest[],
) {
  const embedder = createLocalEmbedder();
  const config = loadConfig(
    {
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.url,
      EMBEDDING_PROVIDER: 'local',
      KB_PATH: join(dir, 'kb.sqlite'),
      WIDGET_ORIGINS: intranetUrl,
      SOURCE_BASE_URL: `${intranetUrl}/docs`,
      // The fake's replies are keyed on the question; a rewrite call would turn one into a search query.
      QUERY_REWRITE: 'false',
    },
    { envFile: false },
  );
  const client = createOpenAIClient({
    apiKey: 'sk-test',
    baseURL: fake.url,
    timeoutMs: 10_000,
    maxRetries: 0,
  });
  const chat = createChatModel(client, { concurrency: 4, timeoutMs: 30_000 });
  const logger = createLogger({ level: 'silent' });
  const api = createApp({
    answer: { store, embedder, chat, config },
    store,
    feedback,
    config,
    logger,
    widget: await buildWidget(),
  });

  // An outer app only to record what the service answered to whom.
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    served.push({
      method: c.req.method,
      path: c.req.path,
      origin: c.req.header('origin'),
      status: c.res.status,
    });
  });
  app.route('/', api);
  return app;
}

/**
 * Starts the service, the fake model and the intranet pages. Always `close()` it.
 *
 * @example
 * const env = await startWidgetTestEnv();
 * await page.goto(env.pageUrl({ lang: 'zh-CN' }));
 */
export async function startWidgetTestEnv(): Promise<WidgetTestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-widget-'));
  const docs = join(dir, 'docs');
  mkdirSync(docs);
  writeDocs(docs);
  const db = openSqliteDatabase(join(dir, 'kb.sqlite'));
  const store = sqliteStore(db);
  await ingestDirectory({ dir: docs, kb: 'hr', store, embedder: createLocalEmbedder() });
  const fake = await startFakeOpenAI({
    reply: ({ lastUserMessage }) => replyFor(lastUserMessage),
    chunkDelayMs: 30,
  });

  let kbUrl = '';
  const pages = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://intranet.test');
    if (url.pathname.startsWith('/docs/')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Document</title><h1>${url.pathname.replace(/[<>&"]/g, '')}</h1>`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(hostPage(kbUrl, url));
  });
  const pagePort = await listen(pages);
  const intranetUrl = `http://intranet.test:${pagePort}`;

  const served: ServedRequest[] = [];
  const app = await serviceApp(store, sqliteFeedbackStore(db), fake, dir, intranetUrl, served);
  const service = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server));
  });
  kbUrl = `http://kb.test:${(service.address() as AddressInfo).port}`;

  return {
    kbUrl,
    intranetUrl,
    pageUrl(options = {}) {
      const url = new URL(`http://${options.site ?? 'intranet'}.test:${pagePort}/page`);
      if (options.lang) url.searchParams.set('lang', options.lang);
      if (options.hostile) url.searchParams.set('hostile', '1');
      if (options.twice) url.searchParams.set('twice', '1');
      if (options.attributes) url.searchParams.set('attributes', JSON.stringify(options.attributes));
      return url.href;
    },
    fake,
    served,
    async close() {
      await closeServer(service);
      await closeServer(pages);
      await fake.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
