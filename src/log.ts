/**
 * A tiny structured logger: one JSON object per line on stdout, so any log shipper can read it without a
 * parser of its own. Callers pass fields, never request bodies or headers such as `Authorization`; as a
 * second line of defence every line is passed through `redact` (e-mail addresses, phone numbers, Chinese
 * resident ID numbers and key-shaped strings are masked).
 */

import { redact } from './redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Fields of one log line; `Error` values are written as `{name, message, stack, cause}`. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** Lines below this level are dropped; `silent` drops all. */
  level: LogLevel | 'silent';
  /** Receives each line without its newline; default: `process.stdout.write(line + '\n')`. */
  write?: (line: string) => void;
}

const RANK: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** JSON.stringify writes an Error as `{}`; keep what an operator needs to find the cause. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return {
      name: value.name,
      message: value.message,
      stack: value.stack,
      ...(value.cause === undefined ? {} : { cause: value.cause }),
    };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

const noop = (): void => {};

/**
 * Creates a logger writing one JSON line per call: `{"time","level","msg",...fields}`.
 *
 * @example
 * const logger = createLogger({ level: 'info' });
 * logger.info('listening', { url: 'http://127.0.0.1:8787' });
 * // {"time":"2025-01-01T00:00:00.000Z","level":"info","msg":"listening","url":"http://127.0.0.1:8787"}
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const threshold = RANK[options.level];
  const at = (level: LogLevel) =>
    // Levels below the threshold cost one call to a no-op, not a JSON.stringify.
    RANK[level] < threshold
      ? noop
      : (msg: string, fields?: LogFields) => {
          let line: string;
          try {
            line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, replacer);
          } catch {
            // A cyclic or otherwise unserialisable field must not turn a log call into a crash.
            line = JSON.stringify({
              time: new Date().toISOString(),
              level,
              msg,
              logError: 'unserialisable fields',
            });
          }
          // Every line, whatever its fields: a caller cannot forget to mask an e-mail or a key.
          write(redact(line));
        };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
