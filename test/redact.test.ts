import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.ts';
import { redact } from '../src/redact.ts';

describe('redact', () => {
  it('masks e-mail addresses', () => {
    expect(redact('write to ops.team+kb@corp.example.co.uk today')).toBe('write to [email] today');
  });

  it('masks Chinese mobile numbers, with or without +86 and separators, and other phone numbers', () => {
    expect(redact('call 13812345678, +86 138-1234-5678 or 8613912345678')).toBe(
      'call [phone], [phone] or [phone]',
    );
    expect(redact('US +1 (555) 123-4567, or 555.123.4567')).toBe('US [phone], or [phone]');
  });

  it('masks Chinese resident ID numbers, with a digit or X as checksum', () => {
    expect(redact('身份证 11010519491231002X 和 110105194912310021。')).toBe('身份证 [id] 和 [id]。');
  });

  it('masks anything shaped like an API key or a bearer token', () => {
    expect(redact('key sk-proj-abcdEFGH12345678 and sk-test-0000aaaa')).toBe('key [key] and [key]');
    expect(redact('Authorization: Bearer kb_3f9a.c0ffee')).toBe('Authorization: Bearer [key]');
    expect(redact('token kbk_9fJ2mQ7xV1pL4sT8wZ0cR6yN3bH5dG2a')).toBe('token [key]');
  });

  it('leaves times, durations, ports, UUID request ids and plain numbers alone', () => {
    const line =
      '{"time":"2026-11-21T23:06:47.123Z","requestId":"6f1c2a9e-1b2c-4d3e-8f90-123456789abc",' +
      '"ms":12.5,"port":8787,"tokens":1536,"at":1763766407123,"path":"guides/install-2024.md"}';
    expect(redact(line)).toBe(line);
  });
});

describe('logger', () => {
  it('redacts every line it writes, whatever the field', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', write: (l) => lines.push(l) });
    logger.info('request', { question: 'I am li@example.com, 13812345678' });
    logger.error('failed', { error: new Error('provider said: invalid key sk-abcdefgh12345678') });
    expect(lines[0]).toContain('"question":"I am [email], [phone]"');
    expect(lines[1]).not.toContain('sk-abcdefgh12345678');
    expect(JSON.parse(lines[1]!).error.message).toBe('provider said: invalid key [key]');
  });
});
