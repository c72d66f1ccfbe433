import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importFleetHosts } from '../src/app.ts';
import { offlineDeps } from '#testkit';

const NOW = Date.UTC(2026, 10, 25);

function exportFile(name: string, bytes: Buffer): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tether-devices-')), name);
  writeFileSync(file, bytes);
  return file;
}

describe('importFleetHosts', () => {
  const host = (serial: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ id: 1, uuid: `U-${serial}`, hardware_serial: serial, seen_time: '2026-11-20T08:00:00Z', ...extra });
  const lines = [
    host('S1', { hostname: 'a', public_ip: '::ffff:198.51.100.1' }),
    '{"id": 2, "hardware_serial": "S2", "seen_time": ',
    host('S3', { seen_time: '2099-01-01T00:00:00Z' }),
    host('S4', { id: 4, hostname: 'old', last_enrolled_at: '2026-01-01T00:00:00Z' }),
    host('S4', { id: 5, hostname: 'new', last_enrolled_at: '2026-06-01T00:00:00Z' }),
  ];

  it('produces versions keyed <device_id>@<valid_from> and dead-letters each refused host with its exact line, stage and reason', async () => {
    const deps = await offlineDeps();
    const file = exportFile('hosts.jsonl', Buffer.from(`${lines.join('\r\n')}\r\n`));
    const summary = await importFleetHosts(file, deps, NOW);
    expect(summary).toMatchObject({ items: 5, sent: 2, dead: 3 });

    const devices = await Promise.all(deps.producer.sent.filter((r) => r.topic === deps.topics.identityDevices).map(async (r) => [r.key, await deps.codec.decode('identityDevices', r.value!)] as const));
    expect(devices.map(([key, v]) => [key, v.hostname, v.ip_addresses])).toEqual([
      [`serial:S1@${Date.parse('2026-11-20T08:00:00Z')}`, 'a', ['198.51.100.1']],
      [`serial:S4@${Date.parse('2026-11-20T08:00:00Z')}`, 'new', []],
    ]);

    const letters = await Promise.all(deps.producer.sent.filter((r) => r.topic === deps.topics.dlq).map((r) => deps.codec.decode('dlq', r.value!)));
    expect(letters.map((l) => [l.stage, l.reason_code, l.original.toString()])).toEqual([
      ['parsing', 'TETHER_SOURCE_PARSE', lines[1]],
      ['normalising', 'TETHER_NORMALISE_INVALID', lines[2]],
      ['normalising', 'TETHER_DUPLICATE_CONFLICT', lines[3]],
    ]);
    expect(letters[1]!.message).toBe('host 2: seen_time "2099-01-01T00:00:00Z" is after the import (2026-11-25T00:00:00.000Z)');
  });

  it('dead-letters a host whose identifiers are not UTF-8 with its exact bytes; latin-1 in a field it does not read is no reason to refuse', async () => {
    const deps = await offlineDeps();
    const badName = Buffer.concat([Buffer.from(host('S8').slice(0, -1)), Buffer.from(',"hostname":"Jos\xe9-mbp"}', 'latin1')]);
    const badComputer = Buffer.concat([Buffer.from(host('S9').slice(0, -1)), Buffer.from(',"computer_name":"Jos\xe9"}', 'latin1')]);
    await importFleetHosts(exportFile('hosts.jsonl', Buffer.concat([badName, Buffer.from('\n'), badComputer, Buffer.from('\n')])), deps, NOW);
    expect(deps.producer.sent.map((r) => r.topic)).toEqual([deps.topics.identityDevices, deps.topics.dlq]);
    const letter = await deps.codec.decode('dlq', deps.producer.sent[1]!.value!);
    expect(letter.message).toBe('host 0: hostname "Jos\ufffd-mbp" holds a control, invisible or replacement character');
    expect(letter.original.equals(badName)).toBe(true);
  });
});
