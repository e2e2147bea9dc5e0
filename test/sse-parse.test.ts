import { describe, expect, it } from 'vitest';
import { createSseParser, readSse, type SseMessage } from '../src/shared/sse-parse.ts';

function parseAll(pieces: string[]): SseMessage[] {
  const out: SseMessage[] = [];
  const parser = createSseParser((m) => out.push(m));
  for (const p of pieces) parser.feed(p);
  parser.end();
  return out;
}

describe('createSseParser', () => {
  it('reads named events with multi-line data, ignoring comments', () => {
    expect(
      parseAll([': keep-alive\n', 'event: delta\ndata: {"text":"a"}\n\n', 'data: one\ndata: two\n\n']),
    ).toEqual([
      { event: 'delta', data: '{"text":"a"}' },
      { event: 'message', data: 'one\ntwo' },
    ]);
  });

  it('gives the same events however the text is split, CRLF included', () => {
    const text = 'event: sources\r\ndata: {"sources":[]}\r\n\r\nevent: done\rdata: x\r\rid: 7\ndata:y\n\n';
    const whole = parseAll([text]);
    expect(whole).toEqual([
      { event: 'sources', data: '{"sources":[]}' },
      { event: 'done', data: 'x' },
      { event: 'message', data: 'y', id: '7' },
    ]);
    for (let size = 1; size < 8; size++) {
      const pieces = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      expect(parseAll(pieces)).toEqual(whole);
    }
  });

  it('an event closed by a final lone CR is delivered at the end of the input', () => {
    expect(parseAll(['event: done\rdata: {}\r\r'])).toEqual([{ event: 'done', data: '{}' }]);
  });

  it('drops an event the input ends before closing', () => {
    expect(parseAll(['event: delta\ndata: cut off'])).toEqual([]);
  });
});

describe('readSse', () => {
  it('yields events from a byte stream split inside multi-byte characters', async () => {
    const bytes = new TextEncoder().encode('event: delta\ndata: {"text":"知识库"}\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 5) controller.enqueue(bytes.slice(i, i + 5));
        controller.close();
      },
    });
    const events: SseMessage[] = [];
    for await (const m of readSse(body)) events.push(m);
    expect(events).toEqual([{ event: 'delta', data: '{"text":"知识库"}' }]);
  });
});
