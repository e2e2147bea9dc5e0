/**
 * A server-sent events parser with no dependencies, for clients that read `/ask` with `fetch` (the
 * browser's EventSource cannot POST): the widget, the CLIs and the tests. It follows the parsing rules
 * of the HTML standard (`event`, `data`, `id` fields; `:` comments; CRLF, LF or CR line ends; a blank
 * line ends an event) and keeps no state beyond the line being read.
 */

export interface SseMessage {
  /** The `event` field; `message` when the event named none. */
  event: string;
  /** The `data` lines joined with `\n`. */
  data: string;
  /** The `id` field, when sent. */
  id?: string;
}

export interface SseParser {
  /** Parses the next piece of text; a line or event may be split across pieces anywhere. */
  feed(text: string): void;
  /** Ends the input: an event not closed by a blank line is dropped, as the standard says. */
  end(): void;
}

/**
 * An incremental parser calling `onMessage` for each complete event.
 *
 * @example
 * const parser = createSseParser((m) => console.log(m.event, JSON.parse(m.data)));
 * parser.feed('event: delta\ndata: {"text":"Hel');
 * parser.feed('lo"}\n\n'); // delta { text: 'Hello' }
 */
export function createSseParser(onMessage: (message: SseMessage) => void): SseParser {
  let pending = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;

  function line(text: string): void {
    if (text === '') {
      if (data.length > 0)
        onMessage({ event: event || 'message', data: data.join('\n'), ...(id === undefined ? {} : { id }) });
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
  }

  return {
    feed(text) {
      let buffer = pending + text;
      // A trailing `\r` may be the first half of a `\r\n`: keep it until the next piece says.
      const carry = buffer.endsWith('\r') ? '\r' : '';
      if (carry) buffer = buffer.slice(0, -1);
      const lines = buffer.split(/\r\n|\r|\n/);
      // The last piece has no line end yet.
      pending = (lines.pop() ?? '') + carry;
      for (const l of lines) line(l);
    },
    end() {
      // A held-back `\r` ends its line after all: nothing can follow it now.
      if (pending.endsWith('\r')) line(pending.slice(0, -1));
      pending = '';
      event = '';
      data = [];
    },
  };
}

/**
 * The events of a response body as they arrive.
 *
 * @example
 * const res = await fetch('/ask', { method: 'POST', body: JSON.stringify({ question, stream: true }) });
 * for await (const { event, data } of readSse(res.body!)) if (event === 'delta') show(JSON.parse(data).text);
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const queue: SseMessage[] = [];
  const parser = createSseParser((m) => queue.push(m));
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        parser.feed(decoder.decode());
        parser.end();
      } else {
        parser.feed(decoder.decode(value, { stream: true }));
      }
      while (queue.length > 0) yield queue.shift()!;
      if (done) return;
    }
  } finally {
    // Stopping early (break, an exception) cancels the body, which closes the connection.
    await reader.cancel().catch(() => {});
  }
}
