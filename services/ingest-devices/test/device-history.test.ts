// Devices over several exports, as a compacted identity topic and the
// enricher see them: the last value per '<device_id>@<valid_from>' key, a
// device as of t is its version with the latest valid_from <= t.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeviceVersion } from '#schemas';
import { readJsonDocument } from '#source';
import { normaliseFleetHosts } from '../src/fleet-import.ts';

const NOW = Date.UTC(2026, 10, 25);
const ms = (iso: string) => Date.parse(iso);
const exportOf = (name: string, observedAt: number) =>
  normaliseFleetHosts(readJsonDocument(readFileSync(path.join(import.meta.dirname, 'fixtures', name))), { observedAt }).rows.flatMap((r) => (r.ok ? [r.version] : []));
const JUNE = () => exportOf('fleet-hosts-2026-06.json', ms('2026-06-03T00:00:00Z'));
const OCTOBER = () => exportOf('fleet-hosts-2026-10.json', ms('2026-10-20T00:00:00Z'));
const NOVEMBER = () => exportOf('fleet-hosts-2026-11.json', ms('2026-11-20T00:00:00Z'));

class CompactedTopic {
  readonly #byKey = new Map<string, DeviceVersion>();

  land(versions: DeviceVersion[]): this {
    for (const v of versions) this.#byKey.set(`${v.device_id}@${v.valid_from}`, v);
    return this;
  }

  asOf(deviceId: string, t: number): DeviceVersion | undefined {
    return [...this.#byKey.values()].filter((v) => v.device_id === deviceId && v.valid_from <= t).sort((a, b) => b.valid_from - a.valid_from)[0];
  }

  stateAt(t: number): Record<string, unknown> {
    const ids = [...new Set([...this.#byKey.values()].map((v) => v.device_id))].sort();
    return Object.fromEntries(ids.map((id) => {
      const v = this.asOf(id, t);
      return [id, v ? { ...v, source: { ...v.source, observed_at: 0 } } : null];
    }));
  }
}

describe('Fleet hosts over several exports', () => {
  const inOrder = new CompactedTopic().land(JUNE()).land(OCTOBER()).land(NOVEMBER());

  it('answers "whose laptop was it" as of any time: Ana in June, Bo from its re-enrolment in October', () => {
    expect(inOrder.asOf('serial:C02FAKE0042', ms('2026-07-15T00:00:00Z'))?.assigned_email).toBe('ana.lima@example.com');
    expect(inOrder.asOf('serial:C02FAKE0042', ms('2026-10-07T00:00:00Z'))?.assigned_email).toBe('bo.chen@example.com');
    expect(inOrder.asOf('serial:C02FAKE0042', ms('2026-06-01T00:00:00Z'))).toBeUndefined();
  });

  it('keeps a renamed host under one device, the old hostname in its history', () => {
    expect(inOrder.asOf('serial:C02FAKE0042', ms('2026-11-01T00:00:00Z'))?.hostname).toBe('lt-0042.corp.example.com');
    expect(inOrder.asOf('serial:C02FAKE0042', NOW)).toMatchObject({ hostname: 'bo-mbp.corp.example.com', ip_addresses: ['10.20.30.61', '203.0.113.90'] });
  });

  it('dates a reassignment of an offline laptop from the IdP update, so the old owner keeps their time', () => {
    expect(inOrder.asOf('serial:C02OFFLINE1', ms('2026-10-01T00:00:00Z'))?.assigned_email).toBe('ana.lima@example.com');
    expect(inOrder.asOf('serial:C02OFFLINE1', NOW)?.assigned_email).toBe('carol.black@example.com');
  });

  it('is the same at every time whatever order the exports are imported in', () => {
    const late = new CompactedTopic().land(NOVEMBER()).land(JUNE()).land(OCTOBER());
    for (const t of [NOW, ms('2026-11-01T00:00:00Z'), ms('2026-10-07T00:00:00Z'), ms('2026-09-15T00:00:00Z'), ms('2026-07-15T00:00:00Z')]) {
      expect(late.stateAt(t)).toEqual(inOrder.stateAt(t));
    }
  });

  it('gives the same keys and versions (but the import time) when an export is imported twice', () => {
    const keyed = (vs: DeviceVersion[]) => vs.map((v) => [`${v.device_id}@${v.valid_from}`, { ...v, source: { ...v.source, observed_at: 0 } }]);
    expect(keyed(exportOf('fleet-hosts-2026-11.json', NOW))).toEqual(keyed(NOVEMBER()));
  });
});
