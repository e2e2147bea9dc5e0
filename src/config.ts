import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

/**
 * The only reader of the environment. Every setting, its default and its environment variable are listed
 * here (and in `.env.example` and the README); everything else receives a `Config` value.
 *
 * Values come from the process environment, then from a `.env` file in the working directory for keys the
 * environment does not set. An invalid configuration fails at start with every bad key listed at once.
 */

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
/** Empty strings count as unset, so `FOO=` in a .env file means "use the default". */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
const url = optionalString.refine((v) => v === undefined || URL.canParse(v), 'must be an absolute URL');

const schema = z.object({
  /** Key for the OpenAI-compatible provider. Without it: local embedder and extractive answers. */
  OPENAI_API_KEY: optionalString,
  /** Base URL of any OpenAI-compatible API (OpenAI, Ollama, vLLM, a gateway). Alias: OPENAI_API_BASE. */
  OPENAI_BASE_URL: url,
  /** Chat model for answers. */
  CHAT_MODEL: z.string().trim().min(1).default('gpt-4o-mini'),
  /** `openai` or `local`; default `openai` when OPENAI_API_KEY is set, else `local`. */
  EMBEDDING_PROVIDER: z.enum(['openai', 'local']).optional(),
  /** Embedding model for the `openai` provider. */
  EMBEDDING_MODEL: z.string().trim().min(1).default('text-embedding-3-small'),
  /** Ask the `openai` provider for vectors of this length (models that support `dimensions`). */
  EMBEDDING_DIMENSIONS: z.coerce.number().int().min(8).max(8192).optional(),
  /** Inputs per embeddings request. */
  EMBEDDING_BATCH_SIZE: int(1, 2048).default(128),
  /** Embeddings requests in flight at once. */
  EMBEDDING_CONCURRENCY: int(1, 32).default(4),
  /** Vector length of the offline `local` embedder. */
  LOCAL_EMBEDDING_DIMENSIONS: int(64, 4096).default(384),
  /** The SQLite file holding every knowledge base. */
  KB_PATH: z.string().trim().min(1).default('data/kb.sqlite'),
  /** Target chunk size in tokens. */
  CHUNK_TOKENS: int(64, 8000).default(400),
  /** Tokens repeated between consecutive chunks of one section. */
  CHUNK_OVERLAP_TOKENS: int(0, 2000).default(60),
  PORT: int(0, 65535).default(8787),
  HOST: z.string().trim().min(1).default('127.0.0.1'),

  /** Token budget for the sources put in the prompt. */
  CONTEXT_TOKENS: int(100, 1_000_000).default(3000),
  /** Default number of sources per answer (a request may ask for 1 to 20). */
  TOP_K: int(1, 20).default(6),
  /** Reciprocal rank fusion constant; default 60 with a semantic (openai) embedder, 10 with the local one. */
  RRF_K: num(1, 1000).optional(),
  /** Weight of the vector ranking in the fusion; default 1 with a semantic embedder, 0.1 with the local one. */
  VECTOR_WEIGHT: num(0, 10).optional(),
  /** Weight of the full-text (BM25) ranking in the fusion. */
  TEXT_WEIGHT: num(0, 10).default(1),
  /** Cosine similarity above which a vector hit alone counts as relevant (the local embedder is lexical). */
  MIN_VECTOR_SIMILARITY: num(-1, 1).default(0.35),
  /** Share of a question's search terms a passage must contain to count as a full-text match. */
  MIN_TERM_COVERAGE: num(0, 1).default(0.3),
  /** Answer when nothing relevant is found, for English questions. */
  NOT_FOUND_MESSAGE_EN: z.string().min(1).default("I couldn't find this in the knowledge base."),
  /** Answer when nothing relevant is found, for Chinese questions. */
  NOT_FOUND_MESSAGE_ZH: z.string().min(1).default('知识库中没有找到相关内容。'),
  /** Replaces the built-in system prompt. */
  SYSTEM_PROMPT: optionalString,
  /** A file whose content replaces the built-in system prompt (SYSTEM_PROMPT wins if both are set). */
  SYSTEM_PROMPT_FILE: optionalString,
  /** Most tokens the model may write per answer; reserved in the context window. */
  ANSWER_MAX_TOKENS: int(16, 100_000).default(800),
  /** The model's context window; default from a table of known models, else 8192. */
  CHAT_CONTEXT_WINDOW: int(512, 10_000_000).optional(),
  TEMPERATURE: num(0, 2).default(0.2),
  TOP_P: num(0, 1).optional(),
  PRESENCE_PENALTY: num(-2, 2).optional(),
  FREQUENCY_PENALTY: num(-2, 2).optional(),
  /** Comma-separated stop sequences. */
  STOP: list,
  /** Models a request may choose with `model` (CHAT_MODEL is always allowed). */
  ALLOWED_MODELS: list,
  /** Upstream request timeout, per attempt. */
  LLM_TIMEOUT_MS: int(100, 600_000).default(60_000),
  /** Retries of 408/409/429/5xx and connection errors (the SDK backs off exponentially, honouring Retry-After). */
  LLM_MAX_RETRIES: int(0, 10).default(2),
  /** Chat requests in flight upstream at once; the rest wait in a queue. */
  LLM_CONCURRENCY: int(1, 1000).default(8),
  /** Turns a source's path into a link: `${SOURCE_BASE_URL}/${path}`. */
  SOURCE_BASE_URL: url,
  /** Largest request body accepted. */
  MAX_BODY_BYTES: int(1024, 100 * 1024 * 1024).default(64 * 1024),
  /** Longest question accepted, in characters. */
  MAX_QUESTION_CHARS: int(10, 100_000).default(4000),
  /** Most history messages accepted in one request (the server trims them to the token budget anyway). */
  MAX_HISTORY_MESSAGES: int(0, 10_000).default(200),
  /**
   * Origins (scheme://host[:port]) whose pages may call the API from a browser, comma-separated. The
   * service's own origin and loopback origins (local development) are always allowed.
   */
  WIDGET_ORIGINS: list,
  /**
   * With a chat model, rewrite a follow-up question (one with history) into a standalone search query with
   * one short model call before retrieval; `false` searches with the previous question joined to the new one.
   */
  QUERY_REWRITE: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .default('true')
    .transform((v) => v === 'true'),
  /** Server-side conversations (`/ask`'s `conversationId`) idle longer than this many days are deleted. */
  CONVERSATION_RETENTION_DAYS: num(0.001, 36_500).default(30),
  /**
   * Asked questions (the unanswered-questions report) and their ratings older than this many days are
   * deleted.
   */
  QUESTION_RETENTION_DAYS: num(0.001, 36_500).default(365),
  /** Without any API key: requests per minute from one client address; 0 for no limit. */
  OPEN_IP_RPM: int(0, 1_000_000).default(30),
  /** Without any API key: requests per UTC day from one client address; 0 for no limit. */
  OPEN_IP_DAILY_LIMIT: int(0, 100_000_000).default(1000),
  /** Requests per minute one visitor (client address) may make with one widget key; 0 for no limit. */
  WIDGET_CLIENT_RPM: int(0, 1_000_000).default(6),
  /** Take the client address from the first `X-Forwarded-For` entry (behind a reverse proxy only). */
  TRUST_PROXY: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  /** `debug`, `info`, `warn`, `error` or `silent`. */
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** Longest an answer is served from the cache, in seconds; 0 turns the answer cache off. */
  CACHE_TTL_SECONDS: int(0, 30 * 24 * 3600).default(3600),
  /** Most answers kept in the (in-memory) answer cache; the least recently used are dropped first. */
  CACHE_MAX_ENTRIES: int(1, 1_000_000).default(1000),
  /** A file of words (one per line, `#` comments) that make `/ask` refuse a question with 400 `content_blocked`. */
  SENSITIVE_WORDS_FILE: optionalString,
});

type Env = Record<string, string | undefined>;

/** Validated, immutable settings. */
export interface Config {
  openai: { apiKey: string | undefined; baseURL: string | undefined };
  embedding: {
    provider: 'openai' | 'local';
    model: string;
    dimensions: number | undefined;
    batchSize: number;
    concurrency: number;
    localDimensions: number;
  };
  kbPath: string;
  chunk: { maxTokens: number; overlapTokens: number };
  server: { host: string; port: number; maxBodyBytes: number };
  retrieval: {
    contextTokens: number;
    topK: number;
    rrfK: number;
    vectorWeight: number;
    textWeight: number;
    minVectorSimilarity: number;
    minTermCoverage: number;
  };
  answer: {
    notFound: { en: string; zh: string };
    systemPrompt: string | undefined;
    maxTokens: number;
    contextWindow: number | undefined;
    maxQuestionChars: number;
    maxHistoryMessages: number;
    /** Rewrite follow-ups into standalone search queries with the chat model (`QUERY_REWRITE`, default true). */
    queryRewrite: boolean;
  };
  /** Days a conversation may stay idle before it is deleted (`CONVERSATION_RETENTION_DAYS`, default 30). */
  conversations: { retentionDays: number };
  /**
   * Days asked questions and their ratings are kept for the unanswered-questions report
   * (`QUESTION_RETENTION_DAYS`, default 365).
   */
  questions: { retentionDays: number };
  chat: {
    model: string;
    allowedModels: string[];
    temperature: number;
    topP: number | undefined;
    presencePenalty: number | undefined;
    frequencyPenalty: number | undefined;
    stop: string[];
    timeoutMs: number;
    maxRetries: number;
    concurrency: number;
  };
  sourceBaseUrl: string | undefined;
  /** Browser origins allowed to call the API besides our own and loopback ones (`WIDGET_ORIGINS`). */
  widgetOrigins: string[];
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /**
   * Limits besides each key's own (`OPEN_IP_RPM` 30, `OPEN_IP_DAILY_LIMIT` 1000, `WIDGET_CLIENT_RPM` 6; 0 is
   * no limit) and where the client address comes from (`TRUST_PROXY`, default false).
   */
  access: { openIpRpm: number; openIpDailyLimit: number; widgetClientRpm: number; trustProxy: boolean };
  /** The answer cache: `ttlSeconds` 0 means off (`CACHE_TTL_SECONDS`, `CACHE_MAX_ENTRIES`). */
  cache: { ttlSeconds: number; maxEntries: number };
  /** Words read from `SENSITIVE_WORDS_FILE` (none without it); a question containing one is refused. */
  sensitiveWords: string[];
}

/** Reads `.env` (if present) under the given environment: the environment wins. */
function withEnvFile(env: Env, envFile: string | undefined): Env {
  if (!envFile || !existsSync(envFile)) return env;
  const fromFile = parseEnv(readFileSync(envFile, 'utf8')) as Env;
  return { ...fromFile, ...env };
}

/**
 * Reads and validates the configuration.
 *
 * @param env the environment (tests pass their own; `main.ts` passes `process.env`)
 * @param options.envFile a dotenv file to read under `env`; default `.env`; `false` for none
 * @throws ConfigError listing every invalid key
 * @example
 * const config = loadConfig({ PORT: '9000' }, { envFile: false });
 */
export function loadConfig(env: Env = process.env, options: { envFile?: string | false } = {}): Config {
  const merged = withEnvFile(env, options.envFile === false ? undefined : (options.envFile ?? '.env'));
  // Empty values mean "use the default", so `PORT=` in a .env file is not an invalid port.
  const raw = Object.fromEntries(
    Object.entries(merged).filter(([, v]) => v !== undefined && v.trim() !== ''),
  );
  raw.OPENAI_BASE_URL ??= raw.OPENAI_API_BASE;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const e = parsed.data;
  const issues: string[] = [];
  let systemPrompt = e.SYSTEM_PROMPT;
  if (!systemPrompt && e.SYSTEM_PROMPT_FILE) {
    if (existsSync(e.SYSTEM_PROMPT_FILE)) systemPrompt = readFileSync(e.SYSTEM_PROMPT_FILE, 'utf8').trim();
    else issues.push(`SYSTEM_PROMPT_FILE: no such file: ${e.SYSTEM_PROMPT_FILE}`);
  }
  let sensitiveWords: string[] = [];
  if (e.SENSITIVE_WORDS_FILE) {
    if (existsSync(e.SENSITIVE_WORDS_FILE)) {
      sensitiveWords = parseWordList(readFileSync(e.SENSITIVE_WORDS_FILE, 'utf8'));
    } else {
      issues.push(`SENSITIVE_WORDS_FILE: no such file: ${e.SENSITIVE_WORDS_FILE}`);
    }
  }
  if (e.CHUNK_OVERLAP_TOKENS >= e.CHUNK_TOKENS / 2) {
    issues.push('CHUNK_OVERLAP_TOKENS: must be less than half of CHUNK_TOKENS');
  }
  if (issues.length > 0) throw new ConfigError(issues);

  const provider = e.EMBEDDING_PROVIDER ?? (e.OPENAI_API_KEY ? 'openai' : 'local');
  // The local embedder is lexical: its ranking repeats BM25's evidence with more noise, so fusing it as an
  // equal lowers quality (SciFact nDCG@10 0.53 vs 0.69 for BM25 alone; CMRC recall@10 0.92 vs 0.999). It
  // gets a small weight and a sharper fusion; a semantic embedder adds what BM25 misses and fuses as an equal.
  const fusion = provider === 'local' ? { rrfK: 10, vectorWeight: 0.1 } : { rrfK: 60, vectorWeight: 1 };
  const config: Config = {
    openai: { apiKey: e.OPENAI_API_KEY, baseURL: e.OPENAI_BASE_URL },
    embedding: {
      provider,
      model: e.EMBEDDING_MODEL,
      dimensions: e.EMBEDDING_DIMENSIONS,
      batchSize: e.EMBEDDING_BATCH_SIZE,
      concurrency: e.EMBEDDING_CONCURRENCY,
      localDimensions: e.LOCAL_EMBEDDING_DIMENSIONS,
    },
    kbPath: e.KB_PATH,
    chunk: { maxTokens: e.CHUNK_TOKENS, overlapTokens: e.CHUNK_OVERLAP_TOKENS },
    server: { host: e.HOST, port: e.PORT, maxBodyBytes: e.MAX_BODY_BYTES },
    retrieval: {
      contextTokens: e.CONTEXT_TOKENS,
      topK: e.TOP_K,
      rrfK: e.RRF_K ?? fusion.rrfK,
      vectorWeight: e.VECTOR_WEIGHT ?? fusion.vectorWeight,
      textWeight: e.TEXT_WEIGHT,
      minVectorSimilarity: e.MIN_VECTOR_SIMILARITY,
      minTermCoverage: e.MIN_TERM_COVERAGE,
    },
    answer: {
      notFound: { en: e.NOT_FOUND_MESSAGE_EN, zh: e.NOT_FOUND_MESSAGE_ZH },
      systemPrompt,
      maxTokens: e.ANSWER_MAX_TOKENS,
      contextWindow: e.CHAT_CONTEXT_WINDOW,
      maxQuestionChars: e.MAX_QUESTION_CHARS,
      maxHistoryMessages: e.MAX_HISTORY_MESSAGES,
      queryRewrite: e.QUERY_REWRITE,
    },
    conversations: { retentionDays: e.CONVERSATION_RETENTION_DAYS },
    questions: { retentionDays: e.QUESTION_RETENTION_DAYS },
    chat: {
      model: e.CHAT_MODEL,
      allowedModels: [...new Set([e.CHAT_MODEL, ...e.ALLOWED_MODELS])],
      temperature: e.TEMPERATURE,
      topP: e.TOP_P,
      presencePenalty: e.PRESENCE_PENALTY,
      frequencyPenalty: e.FREQUENCY_PENALTY,
      stop: e.STOP,
      timeoutMs: e.LLM_TIMEOUT_MS,
      maxRetries: e.LLM_MAX_RETRIES,
      concurrency: e.LLM_CONCURRENCY,
    },
    sourceBaseUrl: e.SOURCE_BASE_URL?.replace(/\/+$/, ''),
    widgetOrigins: e.WIDGET_ORIGINS.map((o) => o.replace(/\/+$/, '')),
    logLevel: e.LOG_LEVEL,
    access: {
      openIpRpm: e.OPEN_IP_RPM,
      openIpDailyLimit: e.OPEN_IP_DAILY_LIMIT,
      widgetClientRpm: e.WIDGET_CLIENT_RPM,
      trustProxy: e.TRUST_PROXY,
    },
    cache: { ttlSeconds: e.CACHE_TTL_SECONDS, maxEntries: e.CACHE_MAX_ENTRIES },
    sensitiveWords,
  };
  return deepFreeze(config);
}

/** One word or phrase per line; blank lines and lines starting with `#` are skipped. */
function parseWordList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
