// The identity population and event mix bench:enrich and bench:enrich-stages
// share: deterministic (the same arguments always build the same identities
// and events), shaped as the importers write them.
import type { AccessEvent, ConnectorVersion, DeviceVersion, NonHumanIdentityVersion, PersonVersion } from '#schemas';
import {
  anthropicSystemEvent, cursorAuditEvent, googleTokenEvent, openaiKeyEvent, openaiSessionEvent,
} from '../services/enrich/test/fixtures/events.ts';
import {
  at, connectorGrant, device, directoryPerson, nonHuman, platformAccount,
} from '../services/enrich/test/fixtures/identities.ts';

export type IdentityRole = 'identityUsers' | 'identityDevices' | 'identityNhi' | 'identityConnectors';
export type IdentityValue = PersonVersion | DeviceVersion | NonHumanIdentityVersion | ConnectorVersion;

export interface IdentityRecord {
  role: IdentityRole;
  id: string;
  value: IdentityValue;
}

export interface Population {
  persons: number;
  devices: number;
  projects: number;
  serviceAccounts: number;
  keys: number;
  connectors: number;
  /** Bytes of directory_record on each directory version (SCIM writes its User resource there, about 1 KB). */
  directoryRecordBytes: number;
}

export function population(n: number, directoryRecordBytes = 0): Population {
  const persons = Math.max(1, Math.floor(n * 0.34));
  return {
    persons,
    devices: Math.floor(n * 0.12),
    projects: Math.max(1, Math.floor(n * 0.01)),
    serviceAccounts: Math.floor(n * 0.02),
    keys: Math.max(1, Math.floor(n * 0.16)),
    connectors: Math.floor(n * 0.01),
    directoryRecordBytes,
  };
}

export function entityCount(p: Population): number {
  return p.persons * 2 + p.devices + p.projects + p.serviceAccounts + p.keys + p.connectors;
}

/** A seeded generator: the same seed, the same sequence. */
export function seededRandom(seed = 0x7e7e7): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JAN_2024 = at('2024-01-01T00:00:00Z');
const JUN_2025 = at('2025-06-01T00:00:00Z');
/** Events are spread over this year. */
export const YEAR_2025 = [at('2025-01-01T00:00:00Z'), at('2025-12-31T00:00:00Z')] as const;
const DEPARTMENTS = ['Sales', 'Finance', 'Engineering', 'Legal', 'Support', 'Research', 'Marketing'];

export const ipOf = (d: number): string => `10.${(d >> 16) & 255}.${(d >> 8) & 255}.${d & 255}`;

/** A SCIM-like User resource of about `bytes` bytes as JSON (null for 0). */
function directoryRecord(i: number, email: string, bytes: number): string | null {
  if (bytes <= 0) return null;
  const resource = {
    resource: {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
      id: `scim-${i}`, externalId: `ext-00u${i}`, userName: email, active: true,
      name: { givenName: `Given${i}`, familyName: `Family${i}`, formatted: `Given${i} Family${i}` },
      emails: [{ value: email, type: 'work', primary: true }],
      meta: { resourceType: 'User', created: '2024-01-01T00:00:00Z', lastModified: '2025-06-01T00:00:00Z', version: `W/"${i}"` },
      padding: '',
    },
  };
  const base = JSON.stringify(resource).length;
  resource.resource.padding = 'x'.repeat(Math.max(0, bytes - base));
  return JSON.stringify(resource);
}

/** Identity versions, role by role. People: 30 % moved department mid-2025, 5 % left. */
export function* identityRecords(p: Population): Generator<IdentityRecord> {
  for (let i = 0; i < p.persons; i++) {
    const email = `person${i}@example.com`;
    const joined = JAN_2024 + i * 60_000;
    const fields = { email, display_name: `Person ${i}`, department: DEPARTMENTS[i % DEPARTMENTS.length]!, title: 'Staff', directory_record: directoryRecord(i, email, p.directoryRecordBytes) };
    yield { role: 'identityUsers', id: `00u${i}`, value: directoryPerson(`00u${i}`, joined, fields) };
    if (i % 10 < 3) yield { role: 'identityUsers', id: `00u${i}`, value: directoryPerson(`00u${i}`, JUN_2025 + i, { ...fields, department: DEPARTMENTS[(i + 1) % DEPARTMENTS.length]! }) };
    if (i % 20 === 7) yield { role: 'identityUsers', id: `00u${i}`, value: directoryPerson(`00u${i}`, JUN_2025 + 86_400_000 + i, { ...fields, active: false, lifecycle_state: 'inactive' }) };
    yield { role: 'identityUsers', id: `openai:user-${i}`, value: platformAccount('openai', `user-${i}`, joined + 3_600_000, { email }) };
  }
  for (let d = 0; d < p.devices; d++) {
    const owner = d % p.persons;
    const first = device(`dev-${d}`, JAN_2024 + d, { serial: `SER${d}`, hostname: `host-${d}`, assigned_person_id: `00u${owner}`, ip_addresses: [ipOf(d)] });
    yield { role: 'identityDevices', id: first.device_id, value: first };
    if (d % 5 === 0) {
      const next = (owner + 1) % p.persons;
      yield { role: 'identityDevices', id: first.device_id, value: device(`dev-${d}`, JUN_2025 + d, { serial: `SER${d}`, hostname: `host-${d}`, assigned_person_id: `00u${next}`, ip_addresses: [ipOf(d)] }) };
    }
  }
  for (let j = 0; j < p.projects; j++) {
    const fields = j % 2 === 0 ? { name: `project-${j}`, owner_platform_user_id: `openai:user-${j % p.persons}` } : { name: `project-${j}` };
    const project = nonHuman('openai', 'project', `proj_${j}`, JAN_2024, fields);
    yield { role: 'identityNhi', id: project.nhi_id, value: project };
  }
  for (let s = 0; s < p.serviceAccounts; s++) {
    const sa = nonHuman('openai', 'service_account', `svc_acct_${s}`, JAN_2024, { name: `sa-${s}`, parent_nhi_id: `openai:project:proj_${(s * 2) % p.projects}` });
    yield { role: 'identityNhi', id: sa.nhi_id, value: sa };
  }
  for (let k = 0; k < p.keys; k++) {
    const viaServiceAccount = p.serviceAccounts > 0 && k % 10 === 0;
    const key = viaServiceAccount
      ? nonHuman('openai', 'api_key', `key_${k}`, JAN_2024 + k, { name: `key-${k}`, parent_nhi_id: `openai:service_account:svc_acct_${k % p.serviceAccounts}` })
      : nonHuman('openai', 'api_key', `key_${k}`, JAN_2024 + k, {
          name: `key-${k}`, parent_nhi_id: `openai:project:proj_${k % p.projects}`, owner_platform_user_id: `openai:user-${k % p.persons}`,
          owner_email: `person${k % p.persons}@example.com`, created_at: JAN_2024 + k,
        });
    yield { role: 'identityNhi', id: key.nhi_id, value: key };
  }
  for (let c = 0; c < p.connectors; c++) {
    const grantor = `person${c % p.persons}@example.com`;
    const grant = connectorGrant('google', `client-${c}.apps.googleusercontent.com`, grantor, JAN_2024 + c, { app_name: `App ${c}`, granted_by_email: grantor });
    yield { role: 'identityConnectors', id: grant.connector_id, value: grant };
  }
}

/** Event n of the mix: 40 % sessions, 30 % user keys, 10 % service-account keys, 10 % email-only, 5 % connectors, 5 % system. */
export function eventAt(n: number, p: Population, time: number, random: () => number): AccessEvent {
  const pick = (k: number) => Math.floor(random() * k);
  const slot = n % 20;
  const person = pick(p.persons);
  if (slot < 8) {
    const d = p.devices > 0 ? person % p.devices : 0;
    return openaiSessionEvent({ id: `s${n}`, time, type: 'login.succeeded', userId: `user-${person}`, email: `person${person}@example.com`, ip: ipOf(d) });
  }
  if (slot < 14) return openaiKeyEvent({ id: `k${n}`, time, type: 'project.updated', keyId: `key_${pick(p.keys)}` });
  if (slot < 16 && p.serviceAccounts > 0) {
    const k = pick(Math.ceil(p.keys / 10)) * 10;
    return openaiKeyEvent({ id: `sa${n}`, time, type: 'project.updated', keyId: `key_${k}`, serviceAccountId: `svc_acct_${k % p.serviceAccounts}` });
  }
  if (slot < 18) return cursorAuditEvent({ id: `c${n}`, time, email: `Person${person}@Example.com`, hostname: `host-${person % Math.max(1, p.devices)}` });
  if (slot < 19 && p.connectors > 0) {
    const c = pick(p.connectors);
    return googleTokenEvent({ id: `g${n}`, time, clientId: `client-${c}.apps.googleusercontent.com`, appName: `App ${c}` });
  }
  return anthropicSystemEvent({ id: `a${n}`, time });
}
