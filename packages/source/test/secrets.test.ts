import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '#log';
import { createScrubber, scrubbingDestination } from '../src/secrets.ts';

const KEY = 'sk-ant-admin01-Zq9xY8wV7u';

describe('createScrubber', () => {
  it('removes every configured secret from text and bytes, longest first', () => {
    const s = createScrubber([KEY, `${KEY}-suffix`, undefined, 'abc']);
    expect(s.text(`key=${KEY}-suffix and ${KEY}`)).toBe('key=[redacted] and [redacted]');
    expect(s.text('abc is too short to be treated as a secret')).toContain('abc');
    expect(s.bytes(Buffer.from(`{"k":"${KEY}"}`)).toString()).toBe('{"k":"[redacted]"}');
  });

  it('scrubs bytes without touching any other byte, even where the text is not UTF-8', () => {
    const s = createScrubber([KEY]);
    const around = [Buffer.from([0xed, 0xa0, 0x80, 0xff]), Buffer.from('{"k":"'), Buffer.from(KEY), Buffer.from('"}'), Buffer.from([0xc3])];
    const out = s.bytes(Buffer.concat(around));
    expect(out.toString('hex')).toBe(Buffer.concat([around[0]!, around[1]!, Buffer.from('[redacted]'), around[3]!, around[4]!]).toString('hex'));
  });

  it('returns the same buffer when there is nothing to scrub', () => {
    const s = createScrubber([KEY]);
    const clean = Buffer.from('{"id":"x"}');
    expect(s.bytes(clean)).toBe(clean);
  });
});

describe('scrubbingDestination', () => {
  it('keeps secrets out of log lines pino redaction cannot see (messages, error text)', () => {
    const lines: string[] = [];
    const out = new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger({ service: 'test', level: 'info', destination: scrubbingDestination(createScrubber([KEY]), out) });
    log.error({ err: new Error(`401 for key ${KEY}`), url: `https://x/?k=${KEY}` }, `request with ${KEY} failed`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(KEY);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'request with [redacted] failed', url: 'https://x/?k=[redacted]' });
  });
});

describe('credentials by shape', () => {
  it('removes sk- keys, Bearer tokens and Basic credentials; leaves key hints and prose', async () => {
    const { scrubTokenShapes, scrubRecord, createScrubber: make } = await import('../src/secrets.ts');
    const basic = Buffer.from('user:pass-word').toString('base64');
    expect(scrubTokenShapes(`k=sk-proj-AAAAbbbbCCCCddddEEEEffff1234 h=Bearer abc.def-ghi_jkl~mno+p== b=Basic ${basic}!`)).toBe('k=[redacted] h=[redacted] b=[redacted]!');
    expect(scrubTokenShapes('hint sk-ant-api03-R2D...igAA, Basic authentication, the bearer of bad news')).toBe('hint sk-ant-api03-R2D...igAA, Basic authentication, the bearer of bad news');
    const scrubber = make(['sk-admin-configured-123']);
    const record = { a: 'fine', b: ['x', 'agent sk-admin-configured-123'], c: { d: Buffer.from('raw Bearer zzzzzzzzzzzzzzzzzzzz') }, n: 1 };
    const out = scrubRecord(record, scrubber);
    expect(out).toEqual({ a: 'fine', b: ['x', 'agent [redacted]'], c: { d: Buffer.from('raw [redacted]') }, n: 1 });
    const clean = { a: 'fine', b: [Buffer.from('x')] };
    expect(scrubRecord(clean, scrubber)).toBe(clean);
  });
});
