import { describe, expect, it } from 'vitest';
import type { AskResponse, Source } from '../src/shared/protocol.ts';
import { AskError, askStream, parseStreamEvents, type StreamEvent } from '../src/widget/stream.ts';

/** The widget's stream client: SSE bytes in, typed protocol events out, whatever the network's chunking. */

const source: Source = {
  index: 1,
  documentId: 7,
  path: 'zh/备份.md',
  title: '备份',
  heading: '备份 > 步骤',
  snippet: '停止服务后复制文件。',
  score: 0.03,
};
const done: AskResponse = {
  id: 'req-1',
  answer: '先停止服务 [1]。',
  sources: [source],
  found: true,
  mode: 'llm',
  usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
  model: 'fake',
  kb: 'default',
};
const expected: StreamEvent[] = [
  { event: 'sources', data: { sources: [source] } },
  { event: 'delta', data: { text: '先停止' } },
  { event: 'delta', data: { text: '服务 [1]。' } },
  { event: 'done', data: done },
];

function sse(events: readonly StreamEvent[], lineEnd = '\n'): string {
  return events
    .map((e) => `event: ${e.event}${lineEnd}data: ${JSON.stringify(e.data)}${lineEnd}${lineEnd}`)
    .join('');
}

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of parseStreamEvents(body)) events.push(event);
  return events;
}

describe('parseStreamEvents', () => {
  it('yields the same events wherever the bytes are split, inside multi-byte characters included', async () => {
    const bytes = new TextEncoder().encode(sse(expected));
    for (let at = 0; at <= bytes.length; at++) {
      expect(await collect(streamOf([bytes.slice(0, at), bytes.slice(at)])), `split at ${at}`).toEqual(
        expected,
      );
    }
  });

  it('yields the same events when every byte arrives on its own', async () => {
    const bytes = new TextEncoder().encode(sse(expected));
    expect(await collect(streamOf([...bytes].map((b) => Uint8Array.of(b))))).toEqual(expected);
  });

  it('reads CRLF line ends, split between the two characters too', async () => {
    const bytes = new TextEncoder().encode(sse(expected, '\r\n'));
    for (let at = 0; at <= bytes.length; at++) {
      expect(await collect(streamOf([bytes.slice(0, at), bytes.slice(at)])), `split at ${at}`).toEqual(
        expected,
      );
    }
  });

  it('reads CR line ends', async () => {
    // The shared parser holds a final lone CR back (it may be half of a CRLF) and drops it at the end of
    // the stream, so an event closed by the stream's very last CR would be lost: a comment follows here.
    const bytes = new TextEncoder().encode(`${sse(expected, '\r')}: end\r\n`);
    for (let at = 0; at <= bytes.length; at += 5) {
      expect(await collect(streamOf([bytes.slice(0, at), bytes.slice(at)])), `split at ${at}`).toEqual(
        expected,
      );
    }
  });

  it('joins multi-line data with newlines before parsing it', async () => {
    const text = 'event: delta\ndata: {"text":\ndata: "two lines"}\n\n';
    expect(await collect(streamOf([new TextEncoder().encode(text)]))).toEqual([
      { event: 'delta', data: { text: 'two lines' } },
    ]);
  });

  it('ignores comments, keep-alives, retry and id fields, and events it does not know', async () => {
    const text =
      ': connected\n\n:keepalive\n\nretry: 1000\nid: 3\nevent: ping\ndata: {}\n\n' +
      'event: delta\n: a comment inside an event\ndata: {"text":"ok"}\n\n: bye\n\n';
    expect(await collect(streamOf([new TextEncoder().encode(text)]))).toEqual([
      { event: 'delta', data: { text: 'ok' } },
    ]);
  });

  it('drops an event the stream ends in the middle of', async () => {
    const text = 'event: delta\ndata: {"text":"complete"}\n\nevent: delta\ndata: {"text":"cut';
    expect(await collect(streamOf([new TextEncoder().encode(text)]))).toEqual([
      { event: 'delta', data: { text: 'complete' } },
    ]);
  });

  it('fails with bad_response when an event is not JSON', async () => {
    const text = 'event: delta\ndata: not json\n\n';
    await expect(collect(streamOf([new TextEncoder().encode(text)]))).rejects.toMatchObject({
      code: 'bad_response',
    });
  });
});

/** A `fetch` answering with the given body and status, recording the request. */
function fakeFetch(body: string | ReadableStream<Uint8Array>, init: ResponseInit = {}) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchFn = (async (url: string | URL | Request, requestInit?: RequestInit) => {
    calls.push({ url: String(url), init: requestInit ?? {} });
    return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' }, ...init });
  }) as typeof fetch;
  return { fetchFn, calls };
}

async function run(options: Parameters<typeof askStream>[0]): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of askStream(options)) events.push(event);
  return events;
}

describe('askStream', () => {
  const request = { question: 'How?', kb: 'hr', history: [{ role: 'user' as const, content: 'Hi' }] };

  it('posts the question with stream: true as text/plain (no CORS preflight) when there is no key', async () => {
    const { fetchFn, calls } = fakeFetch(sse(expected));
    expect(await run({ url: 'https://kb.example/ask', request, fetch: fetchFn })).toEqual(expected);
    const call = calls[0]!;
    expect(call.url).toBe('https://kb.example/ask');
    expect(call.init.method).toBe('POST');
    expect(call.init.credentials).toBe('omit');
    expect(call.init.headers).toEqual({
      Accept: 'text/event-stream',
      'Content-Type': 'text/plain;charset=UTF-8',
    });
    expect(JSON.parse(String(call.init.body))).toEqual({ ...request, stream: true });
  });

  it('sends the key as a bearer token with a JSON content type', async () => {
    const { fetchFn, calls } = fakeFetch(sse(expected));
    await run({ url: 'https://kb.example/ask', key: 'k-123', request, fetch: fetchFn });
    expect(calls[0]!.init.headers).toMatchObject({
      Authorization: 'Bearer k-123',
      'Content-Type': 'application/json',
    });
  });

  it('ends with an error event sent by the server, and reads nothing after it', async () => {
    const error = { error: { code: 'upstream_unavailable', message: 'try again', requestId: 'r' } };
    const body = sse([expected[0]!, { event: 'error', data: error }]) + sse([expected[1]!]);
    const { fetchFn } = fakeFetch(body);
    expect(await run({ url: 'https://kb.example/ask', request, fetch: fetchFn })).toEqual([
      expected[0],
      { event: 'error', data: error },
    ]);
  });

  it('turns an HTTP error body into an AskError with the server code and message', async () => {
    const { fetchFn } = fakeFetch(
      JSON.stringify({ error: { code: 'not_found', message: 'no knowledge base "hr"', requestId: 'r' } }),
      {
        status: 404,
        headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'r' },
      },
    );
    const error = await run({ url: 'https://kb.example/ask', request, fetch: fetchFn }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AskError);
    expect(error).toMatchObject({
      status: 404,
      code: 'not_found',
      message: 'no knowledge base "hr"',
      requestId: 'r',
    });
  });

  it('reports an HTTP error without an error body by its status', async () => {
    const { fetchFn } = fakeFetch('<html>Bad gateway</html>', {
      status: 502,
      headers: { 'Content-Type': 'text/html' },
    });
    await expect(run({ url: 'https://kb.example/ask', request, fetch: fetchFn })).rejects.toMatchObject({
      status: 502,
      code: 'http_error',
    });
  });

  it('reports an unreachable server (or a CORS refusal) as a network error', async () => {
    const fetchFn = (async () => {
      throw new TypeError('Failed to fetch');
    }) as typeof fetch;
    await expect(run({ url: 'https://kb.example/ask', request, fetch: fetchFn })).rejects.toMatchObject({
      status: 0,
      code: 'network',
    });
  });

  it('reports a stream that ends before done as incomplete', async () => {
    const { fetchFn } = fakeFetch(sse(expected.slice(0, 2)));
    await expect(run({ url: 'https://kb.example/ask', request, fetch: fetchFn })).rejects.toMatchObject({
      code: 'incomplete',
    });
  });

  it('stops reading when the signal is aborted, and rethrows the abort rather than an AskError', async () => {
    const controller = new AbortController();
    const fetchFn = (async (_url: string | URL | Request, init?: RequestInit) => {
      // Like a browser's fetch: aborting errors the body being read with an AbortError.
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode(sse(expected.slice(0, 2))));
          init?.signal?.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')));
        },
      });
      return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
    }) as typeof fetch;
    const seen: StreamEvent[] = [];
    const error = await (async () => {
      for await (const event of askStream({
        url: 'https://kb.example/ask',
        request,
        signal: controller.signal,
        fetch: fetchFn,
      })) {
        seen.push(event);
        if (seen.length === 2) controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(AskError);
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(2);
  });
});
