/**
 * What the `ask` CLI tests share: a real SQLite knowledge base (English and Chinese Markdown, local
 * embedder) in a temp folder, a service on a socket, and a runner for `runAskCli` with injected stdin, stdout, stderr and Ctrl-C,
 * whose output can be awaited as it streams.
 */
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { serve } from '@hono/node-server';
import { ingestDirectory } from '../ingest/run.ts';
import { runAskCli } from '../src/cli/ask.ts';
import { openTestKnowledgeBase } from './app-fixture.ts';

export interface AskKnowledgeBase {
  /** `KB_PATH` of the built database. */
  kbPath: string;
  close(): void;
}

/**
 * The HTTP tests' knowledge base (`backup.md`, `install.md`) plus the Chinese `备份.md`, so questions in
 * both languages find something. Always `close()` it.
 */
export async function openAskKnowledgeBase(): Promise<AskKnowledgeBase> {
  const kb = await openTestKnowledgeBase();
  const docs = join(kb.dir, 'docs');
  writeFileSync(
    join(docs, '备份.md'),
    '# 数据库备份\n\n数据库保存在 data/kb.sqlite 文件中。备份数据库时，请先停止服务器，再复制这个文件。\n',
  );
  await ingestDirectory({ dir: docs, kb: 'default', store: kb.store, embedder: kb.embedder });
  return { kbPath: join(kb.dir, 'kb.sqlite'), close: () => kb.close() };
}

/** A service on a real socket at 127.0.0.1 (a free port); `close()` drops open connections too. */
export async function serveOnSocket(
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One run of the CLI: its exit code, and its output so far (readable and awaitable while it runs). */
export interface AskRun {
  readonly code: Promise<number>;
  readonly stdout: string;
  readonly stderr: string;
  /** Types into stdin (a string, or raw bytes to split a character across reads). */
  type(input: string | Buffer): void;
  /** Ends stdin (Ctrl-D). */
  end(): void;
  /** Presses Ctrl-C. */
  interrupt(): void;
  /** Resolves once stdout matches, checking as output arrives; rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
}

/** Starts `runAskCli(argv)` with `env` (without a `.env` file's help: it gets exactly `env`). */
export function startAsk(
  argv: string[],
  env: Record<string, string>,
  options: { fetch?: typeof fetch } = {},
): AskRun {
  const stdin = new PassThrough();
  const signals = new EventEmitter();
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const code = runAskCli(argv, {
    stdin,
    stdout: {
      write: (text: string) => {
        stdout += text;
        for (const check of waiters) check();
      },
    },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    signals,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return {
    code,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    type: (input) => stdin.write(input),
    end: () => stdin.end(),
    interrupt: () => signals.emit('SIGINT'),
    waitFor(pattern, ms = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`stdout never matched ${pattern}; it was:\n${stdout}\nstderr:\n${stderr}`));
        }, ms);
        const check = (): void => {
          if (!pattern.test(stdout)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
  };
}
