import { describe, expect, it } from 'vitest';
import { loadSchemas } from '#schemas';
import { mayHoldSecretBytes, redactSecrets } from '../src/redact.ts';
import { humanKeyCreated, numberedEvent } from './fixtures.ts';

const SECRETS = [
  'sk-proj-Zq8bX2LmN4pR7tV9wY1aC3eG5iK7mO9q', 'key_0123456789abcdef0123456789abcdef0123456789abcdef',
  'ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789', 'github_pat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
  'xoxb-123456789012-1234567890123-AbCdEfGhIjKl', 'AKIAIOSFODNN7EXAMPLE', 'AIzaSyA-1234567890abcdefghijklmnopqrstu',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  'Bearer abcdefghijklmnop1234', 'basic\u00a0abcdefghijklmnop1234', 'BEARER\u2003abcdefghijklmnop1234',
].map((s) => JSON.parse(`"${s}"`) as string);

describe('redactSecrets', () => {
  it.each([
    ['OpenAI project key', 'sk-proj-Zq8bX2LmN4pR7tV9wY1aC3eG5iK7mO9q'],
    ['OpenAI admin key', 'sk-admin-AbCdEfGhIjKlMnOpQrStUvWxYz012345'],
    ['Anthropic key', 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdefgh'],
    ['Cursor key', 'key_0123456789abcdef0123456789abcdef0123456789abcdef'],
    ['GitHub token', 'ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'],
    ['Slack token', 'xoxb-123456789012-1234567890123-AbCdEfGhIjKl'],
    ['AWS key id', 'AKIAIOSFODNN7EXAMPLE'],
    ['Google API key', 'AIzaSyA-1234567890abcdefghijklmnopqrstu'],
    ['JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
  ])('replaces a %s', (_kind, secret) => {
    const { text, redactions } = redactSecrets(`{"note":"key ${secret} pasted"}`);
    expect(text).toBe('{"note":"key [redacted] pasted"}');
    expect(redactions).toBe(1);
  });

  it('keeps the scheme of an Authorization value', () => {
    expect(redactSecrets('Authorization: Bearer abcdefghijklmnop1234').text).toBe('Authorization: Bearer [redacted]');
  });

  it('leaves ordinary payloads alone, including ids that look a little like keys', () => {
    const payload = JSON.stringify({
      id: 'audit_log-7Qm2xZ', type: 'api_key.created', project: { id: 'proj_Ab12Cd34', name: 'task-management-dashboard' },
      'api_key.created': { id: 'key_Zx81Qw', data: { scopes: ['api.model.request'] } }, redacted_value: 'sk-...QwEr', desk: 'desk-42',
    });
    expect(redactSecrets(payload)).toEqual({ text: payload, redactions: 0 });
  });
});

describe('mayHoldSecretBytes', () => {
  const avro = loadSchemas().types.get('EnrichedAccessEvent')!;

  it('sees in the encoded record every secret redactSecrets would find in one of its strings', () => {
    // Strings of every length from 1 to 90: their Avro length prefix is then every byte from 0x02 to 0xb4,
    // word characters included, right before the token.
    for (const secret of SECRETS) {
      for (let pad = 0; pad < 90 - secret.length; pad += 1) {
        const event = humanKeyCreated();
        const text = `${secret} ${'x'.repeat(pad)}`;
        event.event.src = { ...event.event.src, user_agent: text };
        expect(redactSecrets(text).redactions).toBeGreaterThan(0);
        expect(mayHoldSecretBytes(avro.toBuffer(event))).toBe(true);
      }
    }
  });

  it('passes ordinary records', () => {
    for (let n = 0; n < 40; n += 1) expect(mayHoldSecretBytes(avro.toBuffer(numberedEvent(n)))).toBe(false);
  });
});
