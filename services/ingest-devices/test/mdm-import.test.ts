// Exported listings imported through the framework (`ingest <source> import
// <file>`): each source's page envelope in the real shape becomes a
// snapshot of its inventory, the same versions a poll of those pages makes,
// bad records dead-lettered with their bytes; a second import of the same
// file adds nothing.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '#config';
import { createMetrics } from '#service';
import { createMemoryCheckpointStore, createScrubber, createSourceRegistry, runSource, sourceRunnerEnvShape, type AnySourceDefinition } from '#source';
import { offlineDeps } from '#testkit';
import { fleetSource } from '../src/sources/fleet/source.ts';
import { intuneSource } from '../src/sources/intune/source.ts';
import { jamfSource } from '../src/sources/jamf/source.ts';

const NOW = Date.parse('2026-03-02T12:00:00Z');
const fixture = (name: string) => path.join(import.meta.dirname, 'fixtures', name);

async function importTwice(source: AnySourceDefinition, file: string) {
  const offline = await offlineDeps();
  const config = loadConfig(z.object({ ...sourceRunnerEnvShape, ...createSourceRegistry([source]).envShape }), {});
  const deps = { ...offline, service: 'ingest-devices-test', scrubber: createScrubber([]), checkpoints: createMemoryCheckpointStore([], () => NOW), metrics: createMetrics('ingest-devices-test', { defaultMetrics: false }), now: () => NOW };
  const run = () => runSource(source, { mode: 'import', feed: null, file }, { config, deps, signal: new AbortController().signal });
  const first = await run();
  const afterFirst = offline.producer.sent.length;
  const second = await run();
  const againTopics = offline.producer.sent.slice(afterFirst).map((r) => r.topic);
  const decoded = await Promise.all(offline.producer.sent.slice(0, afterFirst).map(async (r) => ({ topic: r.topic, key: r.key?.toString(), value: r.topic === offline.topics.identityDevices ? await offline.codec.decode('identityDevices', r.value!) : await offline.codec.decode('dlq', r.value!) })));
  return { first, second, againTopics, decoded, topics: offline.topics, checkpoint: deps.checkpoints.get(`${source.name}/${first.feeds[0]!.feed.split('/')[1]}/snapshot`) };
}

describe('MDM listings imported from files', () => {
  it.each([
    [fleetSource, 'fleet-list-page.json', 'fleet/hosts', 5, 0],
    [intuneSource, 'intune-managed-devices-page2.json', 'intune/managed_devices', 6, 4],
    [jamfSource, 'jamf-computers-inventory-page0.json', 'jamf/computers', 4, 0],
  ] as const)('%s: %s as a snapshot of %s', async (source, file, feed, versions, dead) => {
    const result = await importTwice(source, fixture(file));
    expect(result.first.feeds.map((f) => [f.feed, f.error])).toEqual([[feed, null]]);
    expect(result.decoded.filter((r) => r.topic === result.topics.identityDevices)).toHaveLength(versions);
    const letters = result.decoded.filter((r) => r.topic === result.topics.dlq).map((r) => r.value as { source: string; stage: string; original: Buffer });
    expect(letters.map((l) => [l.source, l.stage])).toEqual(Array.from({ length: dead }, () => [feed, 'normalising']));
    for (const r of result.decoded.filter((d) => d.topic === result.topics.identityDevices)) {
      const v = r.value as { device_id: string; valid_from: number; source: { platform: string; observed_at: number } };
      expect(r.key).toBe(`${v.device_id}@${v.valid_from}`);
      expect(v.source).toMatchObject({ platform: source.name, observed_at: NOW });
    }
    // The file is a snapshot of the inventory: imported again it changes nothing.
    expect(result.againTopics.filter((t) => t === result.topics.identityDevices)).toEqual([]);
    expect(result.againTopics.filter((t) => t === result.topics.dlq)).toHaveLength(dead);
    expect(result.checkpoint).toBeDefined();
  });
});
