import { describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { loadCatalogue, parseCatalogue } from '../src/index.ts';

const T = (iso: string) => Date.parse(iso);

const CATALOGUE = `
version: 7
tools:
  - id: notes-app
    name: Notes
    kind: other
    oauth_clients:
      - {provider: google, client_id: notes.apps.googleusercontent.com}
  - id: chatgpt
    name: ChatGPT
    vendor: OpenAI
    name_patterns: [chatgpt, openai]
    oauth_clients:
      - {provider: google, client_id: 111-chatgpt.apps.googleusercontent.com}
      - {provider: entra, client_id: 0D0E0F00-1111-2222-3333-444455556666}
      - {provider: github, client_id: Iv1.AbC, valid_from: 2025-03-01}
    processes:
      - {name: ChatGPT, bundle_id: com.openai.chat, os: darwin}
      - {name: ChatGPT.exe, os: windows}
    extensions:
      - {browser: chrome, id: abcdefghijklmnopabcdefghijklmnop}
    api_hosts: [api.openai.com, "*.oaiusercontent.com", {host: chatgpt.com, valid_until: 2025-01-01}]
    addresses: [203.0.113.0/25, "2001:db8:a1::/48"]
  - id: wiki
    name: Wiki
    valid_from: 2025-05-01T00:00:00Z
    name_patterns: [wiki ai]
sanctioned:
  - {tool: chatgpt, sanctioned: true, valid_from: 2025-02-01, decided_by: SEC-1}
  - {tool: chatgpt, sanctioned: false, valid_from: 2025-06-01, note: withdrawn}
  - {provider: entra, client_id: 0d0e0f00-1111-2222-3333-444455556666, sanctioned: true, valid_from: 2025-01-01}
  - {provider: google, client_id: unknown-but-approved, sanctioned: true, valid_from: 2024-01-01}
broad_scopes:
  google: [https://mail.google.com/, "https://www.googleapis.com/auth/gmail.*"]
`;

const cat = parseCatalogue(CATALOGUE, 'test.yaml');

describe('classifyClient', () => {
  it('matches the exact client id first, then the app name, else unknown', () => {
    const t = T('2025-04-01T00:00:00Z');
    expect(cat.classifyClient({ provider: 'google', clientId: '111-chatgpt.apps.googleusercontent.com', appName: 'Something else' }, t)).toMatchObject({
      classification: 'ai_tool', tool: { id: 'chatgpt', vendor: 'OpenAI' }, matchedBy: 'client_id', catalogueVersion: 7,
    });
    expect(cat.classifyClient({ provider: 'okta', clientId: '0oa1', appName: 'My OpenAI helper' }, t)).toMatchObject({ tool: { id: 'chatgpt' }, matchedBy: 'name_pattern' });
    expect(cat.classifyClient({ provider: 'okta', clientId: '0oa1', appName: 'Payroll' }, t)).toEqual({
      classification: 'unknown', tool: null, matchedBy: null, sanctioned: null, catalogueVersion: 7,
    });
  });

  it('reads name patterns as whole words only', () => {
    const t = T('2025-04-01T00:00:00Z');
    expect(cat.classifyClient({ provider: 'google', clientId: 'x', appName: 'ChatGPT' }, t).tool?.id).toBe('chatgpt');
    expect(cat.classifyClient({ provider: 'google', clientId: 'x', appName: 'chatgpt-connector' }, t).tool?.id).toBe('chatgpt');
    expect(cat.classifyClient({ provider: 'google', clientId: 'x', appName: 'NotChatGPTish' }, t).tool).toBeNull();
  });

  it('compares Entra app ids without case and other client ids exactly', () => {
    const t = T('2025-04-01T00:00:00Z');
    expect(cat.classifyClient({ provider: 'entra', clientId: '0d0e0f00-1111-2222-3333-444455556666' }, t).tool?.id).toBe('chatgpt');
    expect(cat.classifyClient({ provider: 'Entra', clientId: ' 0D0E0F00-1111-2222-3333-444455556666 ' }, t).tool?.id).toBe('chatgpt');
    expect(cat.classifyClient({ provider: 'github', clientId: 'iv1.abc' }, t).tool).toBeNull();
    expect(cat.classifyClient({ provider: 'github', clientId: 'Iv1.AbC' }, t).tool?.id).toBe('chatgpt');
  });

  it('answers as of the time: identifiers and tools hold only within their validity', () => {
    expect(cat.classifyClient({ provider: 'github', clientId: 'Iv1.AbC' }, T('2025-02-28T23:59:59Z')).tool).toBeNull();
    expect(cat.classifyClient({ provider: 'github', clientId: 'Iv1.AbC' }, T('2025-03-01T00:00:00Z')).tool?.id).toBe('chatgpt');
    expect(cat.classifyClient({ provider: 'google', clientId: 'x', appName: 'Wiki AI' }, T('2025-04-30T00:00:00Z')).classification).toBe('unknown');
    expect(cat.classifyClient({ provider: 'google', clientId: 'x', appName: 'Wiki AI' }, T('2025-05-01T00:00:00Z')).classification).toBe('ai_tool');
  });

  it('takes the sanction decision in force at the time: none -> not sanctioned, approved, withdrawn', () => {
    const ref = { provider: 'google', clientId: '111-chatgpt.apps.googleusercontent.com' };
    expect(cat.classifyClient(ref, T('2025-01-15T00:00:00Z')).sanctioned).toBe(false);
    expect(cat.classifyClient(ref, T('2025-03-15T00:00:00Z')).sanctioned).toBe(true);
    expect(cat.classifyClient(ref, T('2025-07-01T00:00:00Z')).sanctioned).toBe(false);
  });

  it("puts a client's own decision before its tool's, and lets it sanction an unclassified client", () => {
    const t = T('2025-07-01T00:00:00Z');
    expect(cat.classifyClient({ provider: 'entra', clientId: '0D0E0F00-1111-2222-3333-444455556666' }, t).sanctioned).toBe(true);
    expect(cat.classifyClient({ provider: 'google', clientId: 'unknown-but-approved' }, t)).toMatchObject({ classification: 'unknown', sanctioned: true });
  });

  it('classifies an app the operator marked as not AI as other, with no sanction', () => {
    expect(cat.classifyClient({ provider: 'google', clientId: 'notes.apps.googleusercontent.com', appName: 'ChatGPT' }, T('2025-04-01T00:00:00Z'))).toMatchObject({
      classification: 'other', tool: { id: 'notes-app' }, sanctioned: null,
    });
  });
});

describe('endpoint identifiers', () => {
  const t = T('2025-04-01T00:00:00Z');
  it('matches processes by bundle id or name, case-insensitively, per OS', () => {
    expect(cat.classifyProcess({ bundleId: 'COM.OPENAI.CHAT' }, t).matchedBy).toBe('bundle_id');
    expect(cat.classifyProcess({ name: 'chatgpt.exe', os: 'windows' }, t).tool?.id).toBe('chatgpt');
    expect(cat.classifyProcess({ name: 'ChatGPT.exe', os: 'darwin' }, t).tool).toBeNull();
    expect(cat.classifyProcess({ name: 'bash' }, t).tool).toBeNull();
  });

  it('matches extensions by id and browser', () => {
    expect(cat.classifyExtension({ id: 'abcdefghijklmnopabcdefghijklmnop', browser: 'chrome' }, t).tool?.id).toBe('chatgpt');
    expect(cat.classifyExtension({ id: 'abcdefghijklmnopabcdefghijklmnop', browser: 'firefox' }, t).tool).toBeNull();
  });

  it('matches hosts exactly or under a wildcard parent, never the wildcard apex', () => {
    expect(cat.classifyHost('API.OpenAI.com.', t).tool?.id).toBe('chatgpt');
    expect(cat.classifyHost('files.eu.oaiusercontent.com', t).tool?.id).toBe('chatgpt');
    expect(cat.classifyHost('oaiusercontent.com', t).tool).toBeNull();
    expect(cat.classifyHost('evil-api.openai.com.example', t).tool).toBeNull();
    expect(cat.classifyHost('chatgpt.com', T('2024-12-31T00:00:00Z')).tool?.id).toBe('chatgpt');
    expect(cat.classifyHost('chatgpt.com', t).tool).toBeNull();
  });

  it('matches addresses in a CIDR, IPv4-mapped IPv6 included', () => {
    expect(cat.classifyAddress('203.0.113.127', t).tool?.id).toBe('chatgpt');
    expect(cat.classifyAddress('203.0.113.128', t).tool).toBeNull();
    expect(cat.classifyAddress('::ffff:203.0.113.5', t).tool?.id).toBe('chatgpt');
    expect(cat.classifyAddress('[2001:db8:a1::9]', t).tool?.id).toBe('chatgpt');
    expect(cat.classifyAddress('2001:db8:a2::9', t).tool).toBeNull();
    expect(cat.classifyAddress('not an ip', t).tool).toBeNull();
  });

  it('flags broad scopes by exact name or prefix', () => {
    expect(cat.broadScopes('google', ['openid', 'https://mail.google.com/', 'https://www.googleapis.com/auth/gmail.readonly'])).toEqual([
      'https://mail.google.com/', 'https://www.googleapis.com/auth/gmail.readonly',
    ]);
    expect(cat.broadScopes('okta', ['openid'])).toEqual([]);
  });
});

describe('parseCatalogue errors', () => {
  function problems(text: string): string[] {
    try {
      parseCatalogue(text, 'bad.yaml');
    } catch (err) {
      expect(TetherError.is(err) && err.code).toBe('TETHER_CONFIG_INVALID');
      return (err as TetherError).context.problems as string[];
    }
    throw new Error('parsed');
  }

  it('names the entry, the field and the line of each problem, all at once', () => {
    const found = problems(`version: 1
tools:
  - id: ok
    name: OK
  - id: cursor
    name: Cursor
    oauth_clients:
      - {provider: slack, client_id: abc}
    addresses: [10.0.0.0/33]
sanctioned:
  - {tool: nope, sanctioned: true, valid_from: 2025-01-01}
  - {tool: ok, sanctioned: maybe, valid_from: yesterday}
`);
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/^tools\[1\] \(id "cursor"\)\.oauth_clients\[0\] \(client_id "abc"\)\.provider \(line 8\): /),
      expect.stringMatching(/^sanctioned\[1\] \(tool "ok"\)\.sanctioned \(line 12\)/),
      expect.stringMatching(/^sanctioned\[1\] \(tool "ok"\)\.valid_from \(line 12\): "yesterday" is not a date/),
    ]));
  });

  it('checks references, duplicates, hosts and CIDRs after the shape', () => {
    expect(problems(`version: 1
tools:
  - {id: a, name: A, oauth_clients: [{provider: entra, client_id: AAAA}], addresses: [10.0.0.0/33]}
  - {id: b, name: B, oauth_clients: [{provider: entra, client_id: aaaa}], api_hosts: ["api.*.com"]}
  - {id: a, name: C}
sanctioned:
  - {tool: nope, sanctioned: true, valid_from: 2025-01-01}
  - {tool: b, sanctioned: true, valid_from: 2025-02-01, valid_until: 2025-01-01}
`)).toEqual([
      'tools[0] (id "a").addresses[0] (cidr "10.0.0.0/33"): not an IPv4/IPv6 address or CIDR',
      'tools[1] (id "b").oauth_clients[0] (client_id "aaaa"): already listed under tool "a"',
      'tools[1] (id "b").api_hosts[0] (host "api.*.com"): not a host name (a leading "*." is the only wildcard)',
      'tools[2] (id "a"): the id is used by an earlier tool',
      'sanctioned[0] (tool "nope"): no tool has this id',
      'sanctioned[1] (tool "b"): valid_until is not after valid_from',
    ]);
  });

  it('refuses a decision that names both a tool and a client, or a client without provider', () => {
    const found = problems(`version: 1
tools: [{id: a, name: A}]
sanctioned:
  - {tool: a, provider: google, client_id: x, sanctioned: true, valid_from: 2025-01-01}
  - {client_id: x, sanctioned: true, valid_from: 2025-01-01}
`);
    expect(found).toEqual([
      expect.stringMatching(/^sanctioned\[0\] \(client_id "x"\) \(line 4\): a decision names either a tool or a client_id/),
      expect.stringMatching(/^sanctioned\[1\] \(client_id "x"\) \(line 5\): a client_id needs its provider/),
    ]);
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    expect(problems('version: 1\ntools: [\n')[0]).toMatch(/^line \d+: /);
    expect(problems('version: 1\nversion: 2\ntools: []\n')[0]).toMatch(/^line 2: /);
  });

  it('loads the shipped catalogue', () => {
    const shipped = loadCatalogue();
    expect(shipped.version).toBeGreaterThan(0);
    expect(shipped.classifyClient({ provider: 'github', clientId: '01ab8ac9400c4e429b23' }, Date.now()).tool?.id).toBe('github-copilot');
  });
});
