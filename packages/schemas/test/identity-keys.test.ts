import { describe, expect, it } from 'vitest';
import {
  aliasMatchKey, emailMatchKey, hostnameKeys, normaliseEmail, normaliseExternalId, normaliseIp, normaliseLogin, normaliseSerial, normaliseUpn, upnMatchKey,
} from '#schemas';

/** [input, expected] rows, compared as a whole so a failure shows every wrong row at once. */
function table<I, O>(fn: (input: I) => O, rows: readonly (readonly [I, O])[]) {
  expect(rows.map(([input]) => [input, fn(input)])).toEqual(rows.map(([input, out]) => [input, out]));
}

describe('email and UPN keys', () => {
  it('trims, puts text in NFC and lower-cases without a locale; refuses what is no address', () => {
    table(normaliseEmail, [
      ['dana.lee@example.com', 'dana.lee@example.com'],
      ['  Dana.Lee@Example.COM\t', 'dana.lee@example.com'],
      ['dana.lee+cursor@example.com', 'dana.lee+cursor@example.com'],
      // Decomposed é (e + U+0301) is the precomposed é.
      ['Jose\u0301@example.com', 'jos\u00e9@example.com'],
      // Turkish dotted capital I lower-cases to i + U+0307 (no locale), never to plain i.
      ['İLKER@example.com', 'i\u0307lker@example.com'],
      ['', null], ['   ', null], ['dana.lee', null], ['@example.com', null], ['dana.lee@', null],
      // A fullwidth commercial at is not "@": no address at all, never folded onto one.
      ['dana.lee\uff20example.com', null],
    ]);
  });

  it('drops the +tag of a plus address for matching only', () => {
    table(emailMatchKey, [
      ['dana.lee+cursor@example.com', 'dana.lee@example.com'],
      ['Dana.Lee+Cursor@Example.com', 'dana.lee@example.com'],
      ['dana.lee+a+b@example.com', 'dana.lee@example.com'],
      ['dana.lee+@example.com', 'dana.lee@example.com'],
      ['dana.lee@example.com', 'dana.lee@example.com'],
      // No mailbox before the tag: kept whole. A "+" in the domain is not a tag.
      ['+cursor@example.com', '+cursor@example.com'],
      ['dana@ex+ample.com', 'dana@ex+ample.com'],
      ['not an address', null],
    ]);
  });

  it('never folds homoglyphs, invisible characters or compatibility forms onto another address', () => {
    const dana = emailMatchKey('dana.lee@example.com');
    for (const lookalike of [
      'd\u0430na.lee@example.com', // Cyrillic а
      'dana.lee@ex\u0430mple.com',
      'dana\u200b.lee@example.com', // zero-width space
      'dana.lee\u200d@example.com', // zero-width joiner
      '\ufeffdana.lee@example.com', // byte-order mark / zero-width no-break space
      '\uff44ana.lee@example.com', // fullwidth ｄ
      'dana.lee\uff20example.com', // fullwidth ＠
      'dana.lee+cursor\uff20example.com',
      'd\u0430na.lee+cursor@example.com',
    ]) {
      expect([lookalike, emailMatchKey(lookalike) === dana]).toEqual([lookalike, false]);
    }
  });

  it('trims white space but not U+FEFF, in linear time on hostile input', () => {
    table(normaliseEmail, [[' \u00a0\u3000dana@example.com\n', 'dana@example.com'], ['\ufeff dana@example.com \ufeff', '\ufeff dana@example.com \ufeff']]);
    const spaces = ' '.repeat(200_000);
    // A run of spaces inside the value must not cost a scan per position (a backtracking trim would take minutes).
    expect(normaliseEmail(`\ufeffa${spaces}b@example.com`)).toBe(`\ufeffa${spaces}b@example.com`);
    expect(normaliseIp(`1${spaces}2`)).toBeNull();
  });

  it('reads UPNs like emails', () => {
    table(normaliseUpn, [[' Dana.Lee@Corp.Example.com ', 'dana.lee@corp.example.com'], ['dana', null], ['', null]]);
    table(upnMatchKey, [['Dana.Lee+x@corp.example.com', 'dana.lee@corp.example.com']]);
  });
});

describe('ids', () => {
  it('keeps SCIM ids, externalIds and employee numbers as written, trimmed and in NFC; blank names nothing', () => {
    table(normaliseExternalId, [
      [' 00u1abcd ', '00u1abcd'], ['E-1001', 'E-1001'], ['e-1001', 'e-1001'], ['2819c223-7f76-453a-919d-413861904646', '2819c223-7f76-453a-919d-413861904646'],
      ['Jose\u0301', 'Jos\u00e9'], ['', null], [' \t', null],
    ]);
  });

  it('keeps logins and secondary aliases case-insensitive', () => {
    table(normaliseLogin, [[' DanaLee ', 'danalee'], ['dana-lee', 'dana-lee'], ['', null], [' ', null]]);
  });

  it('keys aliases by kind: addresses by their match key, logins lower-cased, everything else as an id', () => {
    expect(aliasMatchKey('email', 'Dana.Lee+hr@Example.com')).toBe('dana.lee@example.com');
    expect(aliasMatchKey('upn', 'Dana.Lee@Corp.Example.com')).toBe('dana.lee@corp.example.com');
    expect(aliasMatchKey('employee_number', ' E-1001 ')).toBe('E-1001');
    expect(aliasMatchKey('alias', ' Dana-Lee ')).toBe('dana-lee');
    expect(aliasMatchKey('user_name', 'DLee')).toBe('dlee');
    expect(aliasMatchKey('scim_external_id', 'Ext-1')).toBe('Ext-1');
    expect(aliasMatchKey('platform_user_id', 'openai:user-Abc')).toBe('openai:user-Abc');
    expect(aliasMatchKey('external_id', '')).toBeNull();
    // Table lookups go by own entries only.
    expect(aliasMatchKey('constructor', 'X')).toBe('X');
  });
});

describe('keys are their own keys (enrich compares a stored key without normalising it again)', () => {
  it('holds for every function on hostile input', () => {
    const inputs = [' Dana.Lee+Cursor@Example.com ', '+x@example.com', 'a+b+c@d+e.com', 'Jose\u0301@example.com', '\ufeffx@y.z', 'İ@x.y', ' E-1 ', 'DLee'];
    for (const kind of ['email', 'upn', 'user_name', 'alias', 'employee_number']) {
      for (const input of inputs) {
        const key = aliasMatchKey(kind, input);
        expect([kind, input, key === null ? null : aliasMatchKey(kind, key)]).toEqual([kind, input, key]);
      }
    }
    for (const ip of ['::FFFF:CB00:7109', '2001:DB8:0:0:1:0:0:1', ' 10.0.0.1 ', 'fe80::1%en0']) expect(normaliseIp(normaliseIp(ip)!)).toBe(normaliseIp(ip));
    expect(normaliseSerial(normaliseSerial(' c02x '))).toBe('C02X');
  });
});

describe('IP addresses', () => {
  it('writes each address in RFC 5952 text, IPv4-mapped IPv6 as IPv4', () => {
    table(normaliseIp, [
      ['203.0.113.9', '203.0.113.9'], [' 203.0.113.9 ', '203.0.113.9'],
      ['::ffff:203.0.113.9', '203.0.113.9'], ['::FFFF:CB00:7109', '203.0.113.9'], ['0:0:0:0:0:ffff:cb00:7109', '203.0.113.9'],
      ['[::ffff:203.0.113.9]', '203.0.113.9'],
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], ['[2001:db8::1]', '2001:db8::1'], ['fe80::1%eth0', 'fe80::1'],
      ['[fe80::1%25en0]', 'fe80::1'],
      // Not a mapped address: an IPv4-compatible (deprecated) one stays IPv6.
      ['::203.0.113.9', '::cb00:7109'],
      ['::1', '::1'], ['0.0.0.0', '0.0.0.0'],
      ['010.0.0.1', null], ['256.0.0.1', null], ['10.0.0', null], ['10.0.0.1:443', null], ['[2001:db8::1]:443', null],
      ['gggg::1', null], ['10.0.0.0/8', null], ['host.example', null], ['', null],
    ]);
  });
});

describe('serials and hostnames', () => {
  it('upper-cases serials and refuses placeholders', () => {
    table(normaliseSerial, [
      ['c02xk1abjg5h', 'C02XK1ABJG5H'], [' PF3ABC201 ', 'PF3ABC201'], [null, null], ['', null], ['0', null],
      ['To be filled by O.E.M.', null], ['System Serial Number', null], ['n/a', null], ['Default string', null], ['0123456789', null],
    ]);
  });

  it('answers to the full name without its trailing dot and to its short form', () => {
    table(hostnameKeys, [
      ['Alice-MBP.corp.example.', ['alice-mbp.corp.example', 'alice-mbp']],
      ['alice-mbp', ['alice-mbp']], [' ALICE-MBP ', ['alice-mbp']], ['.', []], ['', []], [null, []],
    ]);
  });
});
