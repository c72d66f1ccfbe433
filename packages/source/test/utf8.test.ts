import { describe, expect, it } from 'vitest';
import { tetherError } from '#errors';
import { decodeUtf8, notUtf8Error, originalOf, quoteSnippet } from '../src/utf8.ts';

describe('decodeUtf8', () => {
  it('decodes valid UTF-8 (4-byte sequences, a leading BOM dropped) and names the first byte that is not', () => {
    expect(decodeUtf8(Buffer.from('\ufeffJosé 👩‍💻'))).toEqual({ ok: true, text: 'José 👩‍💻' });
    const cases: [number[], number][] = [
      [[0x61, 0xff], 1], // never valid
      [[0x61, 0x80], 1], // stray continuation
      [[0xc3], 0], // truncated
      [[0xc0, 0xaf], 0], // overlong
      [[0xe0, 0x80, 0xaf], 0], // overlong, 3 bytes
      [[0x61, 0x62, 0xed, 0xa0, 0x80], 2], // a UTF-16 surrogate (CESU)
      [[0xf4, 0x90, 0x80, 0x80], 0], // past U+10FFFF
      [[0x4a, 0x6f, 0x73, 0xe9, 0x2d], 3], // latin-1
    ];
    for (const [bytes, offset] of cases) expect(decodeUtf8(Buffer.from(bytes)), bytes.join(',')).toMatchObject({ ok: false, offset });
  });

  it('an encoding error carries the exact bytes for the dead letter, hidden from serialisation', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0x7d]);
    const result = decodeUtf8(bytes);
    if (result.ok) throw new Error('decoded');
    const err = notUtf8Error('/v1/audit: response body', bytes, result, { status: 200 });
    expect(err).toMatchObject({ code: 'TETHER_SOURCE_ENCODING', message: '/v1/audit: response body: not valid UTF-8 at byte 1 (0xff)', context: { status: 200, offset: 1, bytes: 3 } });
    expect(originalOf(err)).toBe(bytes);
    expect(originalOf(tetherError('TETHER_SOURCE_HTTP', 'gave up', { cause: err }))).toBe(bytes);
    expect(JSON.stringify(err)).not.toContain('255');
  });
});

describe('quoteSnippet', () => {
  it('escapes what could forge a log line or hide text, and says how much was cut', () => {
    expect(quoteSnippet('ok "quoted" \\ back')).toBe('"ok \\"quoted\\" \\\\ back"');
    expect(quoteSnippet('line\n{"level":"error"}\r\u001b[31m')).toBe('"line\\u000a{\\"level\\":\\"error\\"}\\u000d\\u001b[31m"');
    expect(quoteSnippet('admin\u202egnp.exe\u200b\u2028')).toBe('"admin\\u202egnp.exe\\u200b\\u2028"');
    expect(quoteSnippet('x'.repeat(10), 4)).toBe('"xxxx"… (10 characters)');
    expect(quoteSnippet('\ud800')).toBe('"\ufffd"');
  });
});
