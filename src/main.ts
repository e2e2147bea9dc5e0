/**
 * The server's only impure entry (`npm start`): reads the configuration, opens the store, builds the
 * clients, listens, and shuts down gracefully on SIGTERM/SIGINT. Everything it calls takes its inputs as
 * arguments, so tests build the same app without this file.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type Database from 'better-sqlite3';
import { warnIfOpen } from './access/open-warning.ts';
import { createApp } from './app.ts';
import { loadConfig, type Config } from './config.ts';
import { describeEmbedder, type Embedder } from './embed/embedder.ts';
import { embedderFromConfig } from './embed/from-config.ts';
import { ConfigError } from './errors.ts';
import { sqliteFeedbackStore } from './feedback/sqlite-feedback-store.ts';
import { chatModelFromConfig } from './llm/from-config.ts';
import { createLogger, type Logger } from './log.ts';
import { openSqliteDatabase, sqliteStore } from './store/sqlite.ts';
import { sqliteAccessStore } from './store/sqlite-access.ts';
import { startRetention } from './store/retention.ts';
import { sqliteConversationStore } from './store/conversations.ts';
import type { Store } from './store/store.ts';
import { buildWidget, type WidgetBundle } from './widget/build.ts';

/** How long in-flight requests (streams included) may run on after a shutdown signal. */
const SHUTDOWN_GRACE_MS = 10_000;

/** Prints one line and exits: start-up failures are configuration problems, not stack traces. */
function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

function logKnowledgeBases(store: Store, logger: Logger): void {
  const kbs = store.listKnowledgeBases();
  if (kbs.length === 0) {
    logger.warn('no knowledge bases yet; ingest one with `npm run ingest -- data/sample`');
    return;
  }
  for (const kb of kbs) {
    logger.info('knowledge base', {
      kb: kb.name,
      embedder: describeEmbedder(kb.embedder),
      ...store.stats(kb.id),
    });
  }
}

function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });

  let db: Database.Database;
  let store: Store;
  try {
    db = openSqliteDatabase(config.kbPath);
    store = sqliteStore(db);
  } catch (error) {
    fail(`cannot open the knowledge base database ${config.kbPath}: ${(error as Error).message}`);
  }
  let embedder: Embedder;
  try {
    embedder = embedderFromConfig(config);
  } catch (error) {
    fail((error as Error).message);
  }
  const chat = chatModelFromConfig(config);
  // Built at every start from the sources, so the served widget always matches the server's protocol.
  let widget: WidgetBundle;
  try {
    widget = await buildWidget();
  } catch (error) {
    fail(`cannot build the widget: ${(error as Error).message}`);
  }
  const answer = { store, embedder, chat, config };
  const feedback = sqliteFeedbackStore(db);
  // Keys, quotas and usage live in the same file, over the same connection.
  const access = sqliteAccessStore(db);
  const conversations = sqliteConversationStore(db);
  const stopRetention = startRetention({
    rules: [
      {
        what: 'conversations',
        retentionDays: config.conversations.retentionDays,
        deleteBefore: (cutoff) => conversations.deleteIdleSince(cutoff),
      },
      {
        what: 'asked questions',
        retentionDays: config.questions.retentionDays,
        deleteBefore: (cutoff) => feedback.deleteAskedBefore(cutoff),
      },
    ],
    logger,
  });
  const app = createApp({ answer, store, config, logger, widget, feedback, access, conversations });

  const server = serve(
    { fetch: app.fetch, hostname: config.server.host, port: config.server.port },
    (info) => {
      logger.info('listening', {
        url: urlOf(info),
        mode: chat ? `llm (${config.chat.model})` : 'extractive: no OPENAI_API_KEY',
        embedder: `${embedder.provider}/${embedder.model}`,
      });
      logKnowledgeBases(store, logger);
      warnIfOpen(access, config.access, logger);
    },
  );
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') {
      fail(
        `${config.server.host}:${config.server.port} is already in use; set PORT (or HOST) to another value`,
      );
    }
    if (error.code === 'EACCES') fail(`not allowed to listen on ${config.server.host}:${config.server.port}`);
    fail(error.message);
  });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second Ctrl+C means "now".
      logger.warn('forced exit', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal, graceMs: SHUTDOWN_GRACE_MS });
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      stopRetention();
      store.close();
      logger.info('stopped');
      process.exit(0);
    };
    // Stop accepting; close() calls back once every connection has ended.
    server.close(finish);
    // Keep-alive connections with no request in flight would otherwise hold close() open.
    if ('closeIdleConnections' in server) server.closeIdleConnections();
    const deadline = setTimeout(() => {
      logger.warn('requests still running after the grace period; closing their connections');
      if ('closeAllConnections' in server) server.closeAllConnections();
      finish();
    }, SHUTDOWN_GRACE_MS);
    deadline.unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

await main();
