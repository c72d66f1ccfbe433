// Rule files: every problem names file, line and what is wrong; a valid file compiles.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { loadRules, parseRule, readRuleDir, type Problem } from '../../src/rules/load.ts';

const VALID = `id: tether.test-rule
version: 1
title: A test rule
severity: low
description: For the tests.
summary: "{event.action} by {person.email}"
match:
  field: event.action
  eq: api_key.created
tests:
  - name: fires
    expect: 1
    events: [{ event: { action: api_key.created } }]
  - name: does not fire
    expect: 0
    events: [{ event: { action: login.succeeded } }]
`;

function problems(text: string): Problem[] {
  const result = parseRule('rules/x.yaml', text);
  if (!('problems' in result)) throw new Error('expected problems');
  return result.problems;
}

describe('rule files', () => {
  it('compiles a valid rule', () => {
    const result = parseRule('rules/x.yaml', VALID);
    expect('rule' in result && result.rule).toMatchObject({ id: 'tether.test-rule', version: 1, kind: 'match', severity: 'low' });
  });

  it.each([
    ['an unknown field, with a suggestion', VALID.replace('field: event.action', 'field: event.actoin'), 8, /match\.field: unknown field "event\.actoin" \(did you mean "event\.action"/],
    ['a string operator on a number field', VALID.replace('field: event.action\n  eq: api_key.created', 'field: attribution.confidence\n  prefix: x'), 9, /match\.prefix: prefix applies to string fields; "attribution\.confidence" is number/],
    ['a catastrophic regex', VALID.replace('eq: api_key.created', 'regex: "(a+)+$"'), 9, /match\.regex: refused: a repeated group holding a quantifier/],
    ['an invalid regex', VALID.replace('eq: api_key.created', 'regex: "([a-z"'), 9, /match\.regex: not a valid regular expression/],
    ['an over-long regex', VALID.replace('eq: api_key.created', `regex: "${'a'.repeat(600)}"`), 9, /the pattern is 600 characters, over the 512 allowed/],
    ['an unknown severity', VALID.replace('severity: low', 'severity: urgent'), 4, /severity: .*"info"/],
    ['an unknown key', VALID.replace('title: A test rule', 'title: A test rule\ntitel: typo'), 4, /unknown key "titel"/],
    ['two operators in one condition', VALID.replace('eq: api_key.created', 'eq: api_key.created\n  ne: x'), 7, /exactly one operator.*found eq, ne/],
    ['a bad window', VALID.replace('match:', 'threshold: { count: 3, window: 1 hour, group_by: [person.person_id] }\nmatch:'), 7, /threshold\.window: a duration/],
    ['a list field grouped on', VALID.replace('match:', 'threshold: { count: 3, window: 1h, group_by: [event.connector.scopes] }\nmatch:'), 7, /threshold\.group_by\[0\]: "event\.connector\.scopes" cannot group/],
    ['an unknown summary placeholder', VALID.replace('{person.email}', '{person.mail}'), 6, /summary: unknown field "person\.mail"/],
    ['a rule without a negative test', VALID.replace('expect: 0', 'expect: 2'), 10, /no negative test/],
    ['a time compared with a date without a zone', VALID.replace('field: event.action\n  eq: api_key.created', 'field: event.time\n  after: "2025-01-01"'), 9, /is not an RFC 3339 date-time with a zone/],
    ['a YAML syntax error (where the parser notices it)', VALID.replace('title: A test rule', 'title: [unclosed'), 4, /^YAML: /],
    ['a duplicate key', VALID.replace('version: 1', 'version: 1\nversion: 2'), 3, /YAML: Map keys must be unique/],
  ])('names the line and the problem: %s', (_name, text, line, message) => {
    const [first] = problems(text);
    expect(first).toMatchObject({ file: 'rules/x.yaml', line });
    expect(first!.message).toMatch(message);
  });

  it('fails the whole pack when one file is invalid, listing file:line: reason', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-rules-'));
    writeFileSync(path.join(dir, 'good.yaml'), VALID);
    writeFileSync(path.join(dir, 'bad.yaml'), VALID.replace('tether.test-rule', 'tether.other').replace('eq: api_key.created', 'gt: 5'));
    let error: unknown;
    try {
      loadRules(dir);
    } catch (err) {
      error = err;
    }
    expect(TetherError.is(error) && error.code).toBe('TETHER_RULE_INVALID');
    expect((error as Error).message).toMatch(new RegExp(`${dir}/bad\\.yaml:9:7: match\\.gt: gt applies to number and time fields; "event\\.action" is string`));
  });

  it('refuses two files with one rule id', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-rules-'));
    writeFileSync(path.join(dir, 'a.yaml'), VALID);
    writeFileSync(path.join(dir, 'b.yaml'), VALID);
    expect(readRuleDir(dir).problems.map((p) => p.message)).toEqual([expect.stringMatching(/rule id "tether.test-rule" is also the id of .*a\.yaml/)]);
  });

  it('loads the starter pack', () => {
    const pack = loadRules();
    expect(pack.rules.map((r) => [r.id, r.kind])).toEqual([
      ['tether.ai-admin-action-unmanaged-device', 'match'],
      ['tether.ai-connector-broad-scopes-unsanctioned', 'match'],
      ['tether.api-key-burst', 'threshold'],
      ['tether.key-first-use-new-network', 'first_seen'],
      ['tether.nhi-used-after-owner-left', 'match'],
      ['tether.orphaned-grant-in-use', 'match'],
      ['tether.shadow-access', 'match'],
    ]);
  });
});
