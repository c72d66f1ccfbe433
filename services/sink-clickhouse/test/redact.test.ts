import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../src/redact.ts';

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
