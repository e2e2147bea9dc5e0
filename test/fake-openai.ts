/**
 * A real local HTTP server that speaks enough of the OpenAI API for this project's tests: the real
 * `openai` SDK talks to it over a real socket, so retries, timeouts, streaming and aborts are exercised
 * exactly as in production, and tests fake only the model provider, at the HTTP boundary.
 *
 * Routes (anything else answers 404 with an OpenAI error body):
 * - `POST /v1/embeddings`: deterministic unit vectors (hashed bags of words, see fake-openai-payloads.ts);
 *   native lengths for OpenAI's model names (1536/3072), `embeddingDimensions` for any other model,
 *   `dimensions` honoured; `encoding_format: 'base64'` (what the SDK asks for by default) or float
 *   arrays; rejects empty strings and more than 2048 inputs with 400, like the real API.
 * - `POST /v1/chat/completions`: a `chat.completion`, or with `stream: true` server-sent
 *   `chat.completion.chunk` deltas, a usage chunk when `stream_options.include_usage`, then `[DONE]`.
 * - `GET /v1/models`: a list naming a few models.
 *
 * Failures are scripted per route with `enqueue`; once a route's queue is empty it answers normally.
 * Every request is recorded (headers unredacted, so tests can check the Authorization header).
 *
 * @example
 * const fake = await startFakeOpenAI({ reply: 'See [1].', chunkDelayMs: 20 });
 * const client = new OpenAI({ apiKey: 'sk-test', baseURL: fake.url, maxRetries: 1 });
 * fake.enqueue('chat', { status: 429, retryAfter: 1 });   // the SDK waits ~1 s and retries
 * const stream = await client.chat.completions.create({ model: 'm', messages, stream: true });
 * // ... fake.requests[1].headers.authorization === 'Bearer sk-test'
 * await fake.close();
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleChat, handleEmbeddings, handleModels, sendError } from './fake-openai-routes.ts';

/** The routes whose behaviour can be scripted and whose requests are counted separately. */
export type FakeRoute = 'embeddings' | 'chat' | 'models' | 'unknown';

/** What the reply function sees of a chat request. */
export interface FakeChatRequest {
  /** The parsed JSON body as sent. */
  body: Record<string, any>;
  /** The content of the last `user` message ('' if none). */
  lastUserMessage: string;
}

export interface FakeOpenAIOptions {
  /** Vector length for models that are not OpenAI's own, when the request has no `dimensions`. Default 16. */
  embeddingDimensions?: number;
  /**
   * `'auto'` (default) answers in the requested `encoding_format`; `'float'` always sends float arrays,
   * like OpenAI-compatible servers that ignore `base64`.
   */
  embeddingEncoding?: 'auto' | 'float';
  /** Ignore the request's `dimensions`, like OpenAI-compatible servers that do not support it. Default false. */
  ignoreDimensions?: boolean;
  /** The chat reply: a string or a function of the request. Default `'This is a fake answer [1].'`. */
  reply?: string | ((request: FakeChatRequest) => string);
  /** Longest streamed piece, in code points; words are otherwise one piece each. Default 8. */
  chunkChars?: number;
  /** Pause between streamed pieces, in ms. Default 0. */
  chunkDelayMs?: number;
  /** Pause before every normal answer, in ms, so concurrent requests overlap. Default 0. */
  latencyMs?: number;
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. Default: any key passes. */
  apiKey?: string;
}

/**
 * One scripted answer for the next request on a route. Precedence: `hang`, then `disconnect`, then
 * `delayMs`, then `status`; otherwise a normal answer modified by the remaining fields.
 */
export interface FakeBehaviour {
  /** Answer this HTTP status with an OpenAI error body (`message`, or a recognisable default). */
  status?: number;
  /** `Retry-After` header, in seconds. */
  retryAfter?: number;
  /** `retry-after-ms` header (the SDK prefers it to `Retry-After`). */
  retryAfterMs?: number;
  /** The provider's error message; tests check it never reaches our clients. */
  message?: string;
  /** Extra response headers, e.g. `{ 'x-should-retry': 'false' }`. */
  headers?: Record<string, string>;
  /** Accept the request and never answer (until `close()`): for timeout tests. */
  hang?: boolean;
  /** Destroy the connection without answering: the SDK sees a connection error. */
  disconnect?: boolean;
  /** Wait this long before answering (overrides `latencyMs`). */
  delayMs?: number;
  /** Chat only: this reply instead of the configured one. */
  reply?: string;
  /** Chat only: the finish reason. Default `'stop'`. */
  finishReason?: string;
  /** Chat stream only: destroy the connection after this many content pieces. */
  disconnectAfterChunks?: number;
  /** Chat stream only: send an in-stream `{ error }` event after this many content pieces, then end. */
  errorAfterChunks?: number;
  /** Chat stream only: after this many content pieces, send nothing more and keep the connection open. */
  hangAfterChunks?: number;
  /** How many consecutive requests get this behaviour. Default 1; `Infinity` for every request. */
  times?: number;
}

/** One request as the fake received it. */
export interface RecordedRequest {
  route: FakeRoute;
  method: string;
  /** The path with query, e.g. `/v1/embeddings`. */
  path: string;
  /** Lower-cased header names, nothing redacted. */
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; `{}` when the body was empty or not JSON (see `rawBody`). */
  body: Record<string, any>;
  rawBody: string;
  /** `Date.now()` when the body had been read. */
  receivedAt: number;
  /** `Date.now()` when the connection or response closed; undefined while open. */
  finishedAt?: number;
  /** The status answered, once headers were sent. */
  status?: number;
  /** The scripted behaviour applied, if any. */
  behaviour?: FakeBehaviour;
  /** True when the client closed the connection before the response was complete (not by `close()`). */
  aborted: boolean;
}

export interface FakeOpenAI {
  /** `http://127.0.0.1:PORT/v1`: pass as `baseURL`. */
  readonly url: string;
  /** Every request in arrival order. */
  readonly requests: RecordedRequest[];
  /** The recorded requests of one route. */
  requestsTo(route: FakeRoute): RecordedRequest[];
  /** Script the next requests on a route, in order (each for `times` requests). */
  enqueue(route: FakeRoute, ...behaviours: FakeBehaviour[]): void;
  /** Replace the chat reply for later requests. */
  setReply(reply: string | ((request: FakeChatRequest) => string)): void;
  /** Requests currently open (all routes, or one). */
  inFlight(route?: FakeRoute): number;
  /** The most requests that were open at once since start or `reset()`. */
  maxInFlight(route?: FakeRoute): number;
  /** Resolve once `condition()` is true (polled every 5 ms); reject after `timeoutMs` (default 2000). */
  waitUntil(condition: () => boolean, timeoutMs?: number): Promise<void>;
  /** Forget recorded requests, scripted behaviours and in-flight maxima (for a server shared by tests). */
  reset(): void;
  /** Stop listening and destroy every open connection, hanging ones included. Idempotent. */
  close(): Promise<void>;
}

/** Internal state shared with the route handlers. */
export interface FakeState {
  options: Required<Omit<FakeOpenAIOptions, 'apiKey' | 'reply'>>;
  reply: string | ((request: FakeChatRequest) => string);
  /** Resolves after `ms`, unless the server closes first (then never: the connection is gone anyway). */
  sleep(ms: number): Promise<void>;
  closing: boolean;
}

const ROUTES: FakeRoute[] = ['embeddings', 'chat', 'models', 'unknown'];

function routeOf(method: string, path: string): FakeRoute {
  const pathname = path.split('?')[0]?.replace(/\/+$/, '');
  if (method === 'POST' && pathname === '/v1/embeddings') return 'embeddings';
  if (method === 'POST' && pathname === '/v1/chat/completions') return 'chat';
  if (method === 'GET' && pathname === '/v1/models') return 'models';
  return 'unknown';
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): Record<string, any> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, any>) : {};
  } catch {
    return {};
  }
}

/**
 * Start the fake on 127.0.0.1 at a free port. Always `close()` it (e.g. in `afterAll`).
 *
 * @example
 * const fake = await startFakeOpenAI({ embeddingDimensions: 8 });
 * fake.enqueue('embeddings', { status: 500, times: 3 });
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const queues = new Map<FakeRoute, FakeBehaviour[]>(ROUTES.map((r) => [r, []]));
  const open = new Map<FakeRoute, number>(ROUTES.map((r) => [r, 0]));
  const maxOpen = new Map<FakeRoute | 'all', number>();
  const timers = new Set<NodeJS.Timeout>();
  const state: FakeState = {
    options: {
      embeddingDimensions: options.embeddingDimensions ?? 16,
      embeddingEncoding: options.embeddingEncoding ?? 'auto',
      ignoreDimensions: options.ignoreDimensions ?? false,
      chunkChars: options.chunkChars ?? 8,
      chunkDelayMs: options.chunkDelayMs ?? 0,
      latencyMs: options.latencyMs ?? 0,
    },
    reply: options.reply ?? 'This is a fake answer [1].',
    closing: false,
    sleep: (ms) =>
      new Promise((resolve) => {
        if (state.closing) return;
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, ms);
        timers.add(timer);
      }),
  };

  const totalOpen = () => [...open.values()].reduce((a, b) => a + b, 0);

  function takeBehaviour(route: FakeRoute): FakeBehaviour | undefined {
    const queue = queues.get(route)!;
    const head = queue[0];
    if (head === undefined) return undefined;
    const times = head.times ?? 1;
    if (times <= 1) queue.shift();
    else queue[0] = { ...head, times: times - 1 };
    return head;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const route = routeOf(method, path);
    const rawBody = await readBody(req);
    const record: RecordedRequest = {
      route,
      method,
      path,
      headers: req.headers,
      body: parseJson(rawBody),
      rawBody,
      receivedAt: Date.now(),
      aborted: false,
    };
    requests.push(record);
    open.set(route, open.get(route)! + 1);
    maxOpen.set(route, Math.max(maxOpen.get(route) ?? 0, open.get(route)!));
    maxOpen.set('all', Math.max(maxOpen.get('all') ?? 0, totalOpen()));
    let serverDropped = false;
    res.on('close', () => {
      open.set(route, open.get(route)! - 1);
      record.finishedAt = Date.now();
      if (!res.writableEnded && !serverDropped && !state.closing) record.aborted = true;
    });
    const originalWriteHead = res.writeHead.bind(res);
    res.writeHead = ((status: number, ...rest: unknown[]) => {
      record.status = status;
      return (originalWriteHead as (...args: unknown[]) => ServerResponse)(status, ...rest);
    }) as typeof res.writeHead;
    const drop = () => {
      serverDropped = true;
      res.socket?.destroy();
    };

    const behaviour = takeBehaviour(route);
    if (behaviour !== undefined) record.behaviour = behaviour;
    if (behaviour?.hang) return;
    if (behaviour?.disconnect) return drop();
    const delay = behaviour?.delayMs ?? state.options.latencyMs;
    if (delay > 0) await state.sleep(delay);
    if (res.destroyed) return;

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendError(res, 401, { message: 'Incorrect API key provided: fake-key-check' });
    }
    if (behaviour?.status !== undefined) return sendError(res, behaviour.status, behaviour);
    if (route === 'embeddings') return handleEmbeddings(state, record.body, res);
    if (route === 'chat') return handleChat(state, record.body, res, behaviour ?? {}, drop);
    if (route === 'models') return handleModels(res);
    return sendError(res, 404, { message: `fake: no route ${method} ${path}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, { message: `fake server bug: ${String(error)}` });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    requestsTo: (route) => requests.filter((r) => r.route === route),
    enqueue: (route, ...behaviours) => void queues.get(route)!.push(...behaviours),
    setReply: (reply) => void (state.reply = reply),
    inFlight: (route) => (route === undefined ? totalOpen() : open.get(route)!),
    maxInFlight: (route) => maxOpen.get(route ?? 'all') ?? 0,
    async waitUntil(condition, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`fake-openai: condition not met within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    reset() {
      requests.length = 0;
      for (const queue of queues.values()) queue.length = 0;
      maxOpen.clear();
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        state.closing = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
