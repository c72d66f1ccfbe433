import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../src/canonical.ts';
import { parseFilter, parsePatchPath } from '../src/filter.ts';
import { matches } from '../src/match.ts';
import { ScimError } from '../src/scim-error.ts';
import { ENTERPRISE_SCHEMA, GROUP, USER } from '../src/schema.ts';

const dana: JsonObject = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE_SCHEMA],
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: '00u1dana',
  userName: 'Dana.Ruiz@example.com',
  name: { givenName: 'Dana', familyName: 'Ruiz' },
  title: 'Engineer',
  active: true,
  emails: [
    { value: 'dana.ruiz@example.com', type: 'work', primary: true },
    { value: 'dana@home.example', type: 'home' },
  ],
  [ENTERPRISE_SCHEMA]: { employeeNumber: '1042', department: 'R&D', manager: { value: 'boss-id' } },
  meta: { resourceType: 'User', created: '2025-01-02T09:00:00.000Z', lastModified: '2025-03-04T10:00:00.000Z' },
};

const hit = (filter: string, resource: JsonObject = dana) => matches(parseFilter(filter), resource, USER);

function scimError(run: () => unknown): ScimError {
  try {
    run();
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw err;
  }
  throw new Error('no error thrown');
}

describe('SCIM filters', () => {
  it.each([
    ['userName eq "dana.ruiz@example.com"', true],
    ['USERNAME EQ "DANA.RUIZ@EXAMPLE.COM"', true],
    ['userName ne "dana.ruiz@example.com"', false],
    ['userName co "ruiz"', true],
    ['userName sw "dana."', true],
    ['userName ew "@example.com"', true],
    ['userName ew "@example.org"', false],
    ['title pr', true],
    ['nickName pr', false],
    ['nickName eq null', true],
    ['nickName ne "x"', true],
    ['active eq true', true],
    ['active eq false', false],
    ['name.familyName eq "ruiz"', true],
    ['emails[type eq "work"].value eq "dana.ruiz@example.com"', true],
    ['emails[type eq "home"].value eq "dana.ruiz@example.com"', false],
    ['emails[type eq "work" and primary eq true]', true],
    ['emails[not (type eq "work")]', true],
    ['emails co "home.example"', true],
    ['emails.type eq "home"', true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1042"', true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "boss-id"', true],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "dana"', true],
    ['meta.lastModified gt "2025-03-01T00:00:00Z"', true],
    ['meta.lastModified gt "2025-03-04T11:00:00+01:00"', false],
    ['meta.lastModified ge "2025-03-04T11:00:00+01:00"', true],
    ['meta.created lt "2025-01-02T09:00:00.001Z"', true],
    ['meta.created le "2025-01-01T23:59:59Z"', false],
    // Precedence: and binds tighter than or.
    ['title eq "x" and userName pr or active eq true', true],
    ['title eq "x" and (userName pr or active eq true)', false],
    ['not (title eq "x") and not (active eq false)', true],
    ['userName eq "nobody" or emails[type eq "work" and value ew "example.com"]', true],
    // Entra documents a bare token: `externalId eq jyoung`.
    ['externalId eq 00u1dana', true],
    // externalId is caseExact.
    ['externalId eq "00U1DANA"', false],
  ])('%s -> %s', (filter, expected) => {
    expect(hit(filter)).toBe(expected);
  });

  it('parses and/or/not into the RFC precedence', () => {
    expect(parseFilter('a eq 1 or b eq 2 and not (c pr)')).toEqual({
      kind: 'or',
      left: { kind: 'compare', path: { urn: null, attr: 'a', sub: null }, op: 'eq', value: 1 },
      right: {
        kind: 'and',
        left: { kind: 'compare', path: { urn: null, attr: 'b', sub: null }, op: 'eq', value: 2 },
        right: { kind: 'not', filter: { kind: 'present', path: { urn: null, attr: 'c', sub: null } } },
      },
    });
  });

  it('filters groups by name and member', () => {
    const group: JsonObject = { schemas: [GROUP.core], id: 'g1', displayName: 'Research', members: [{ value: 'u1' }, { value: 'u2' }] };
    expect(matches(parseFilter('displayName eq "research"'), group, GROUP)).toBe(true);
    expect(matches(parseFilter('members[value eq "u2"]'), group, GROUP)).toBe(true);
    expect(matches(parseFilter('members[value eq "U2"]'), group, GROUP)).toBe(false);
  });

  it.each([
    'userName eq',
    'userName zz "x"',
    '(userName eq "x"',
    'userName eq "x")',
    'userName eq "unterminated',
    'emails[type eq "work"',
    'userName eq "x" and',
    'bogus eq "x"',
    'active gt true',
    '',
    '(((((((((((((((((((((((((((((((((((userName pr)))))))))))))))))))))))))))))))))))',
    'x'.repeat(5_000),
  ])('refuses %j with 400 invalidFilter', (filter) => {
    const err = scimError(() => hit(filter));
    expect([err.status, err.scimType]).toEqual([400, 'invalidFilter']);
  });

  it('reads PATCH paths with value filters and sub-attributes', () => {
    expect(parsePatchPath('emails[type eq "work"].value')).toMatchObject({ path: { attr: 'emails', sub: null }, sub: 'value', filter: { kind: 'compare', op: 'eq', value: 'work' } });
    expect(parsePatchPath('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department')).toEqual({
      path: { urn: ENTERPRISE_SCHEMA.toLowerCase(), attr: 'department', sub: null }, filter: null, sub: null,
    });
    expect(parsePatchPath('name.givenName')).toEqual({ path: { urn: null, attr: 'name', sub: 'givenName' }, filter: null, sub: null });
    expect(scimError(() => parsePatchPath('emails[type eq')).scimType).toBe('invalidPath');
  });
});
