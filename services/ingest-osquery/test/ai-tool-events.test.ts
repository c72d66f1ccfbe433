import { describe, expect, it } from 'vitest';
import { fixtureRecords } from './fixtures.ts';
import { aiToolEvents, type CatalogueMatch, type EndpointCatalogue } from '../src/ai-tool-events.ts';

const records = fixtureRecords;

const CHATGPT: CatalogueMatch = { id: 'chatgpt-desktop', name: 'ChatGPT desktop', vendor: 'OpenAI', sanctioned: true };
const CLAUDE_EXT: CatalogueMatch = { id: 'claude-chrome', name: 'Claude for Chrome', vendor: 'Anthropic', sanctioned: false };
const OPENAI_API: CatalogueMatch = { id: 'openai-api', name: 'OpenAI API', vendor: 'OpenAI', sanctioned: true };
// The catalogue's answers change over time: the extension is catalogued from March 2 09:00 on.
const catalogue: EndpointCatalogue = {
  app: (c) => (c.path?.startsWith('/Applications/ChatGPT.app/') ? CHATGPT : null),
  extension: (browser, id, at) => (browser === 'chrome' && id === 'fcoeoabgfenejglbffodgkkbkcdhcgfn' && at >= Date.parse('2026-03-02T09:00:00Z') ? CLAUDE_EXT : null),
  apiAddress: (address) => (address === '198.51.100.25' ? OPENAI_API : null),
};
const host = { deviceId: 'serial:C02FAKE0042', serial: 'C02FAKE0042', hostname: 'lt-0042.corp.example.com' };
const ctx = { catalogue, host, ingestedAt: 1_772_600_000_000, rawBytes: Buffer.from('{}') };

describe('AI tools on endpoints', () => {
  it('an AI app running is an event of the device at the run time, naming the catalogue entry', () => {
    const processes = records('results-event.jsonl')[4]!;
    const [event, ...more] = aiToolEvents(processes, ctx);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      action: 'endpoint.ai_app.running', time: 1_772_442_301_000, outcome: 'success',
      source: { platform: 'osquery', feed: 'pack/Global/ai_processes' },
      actor: { kind: 'device' }, src: { device_id: 'serial:C02FAKE0042', hostname: 'lt-0042.corp.example.com' },
      targets: [{ type: 'ai_app', id: 'chatgpt-desktop' }], ocsf: { class_uid: 1007, type_uid: 100701 },
    });
  });

  it('only catalogued extensions are events, as the catalogue stood at the run', () => {
    const snapshot = records('results-snapshot.jsonl')[0]!;
    expect(aiToolEvents(snapshot, ctx).map((e) => e.targets[0]!.id)).toEqual(['claude-chrome']);
    expect(aiToolEvents({ ...snapshot, timeMs: Date.parse('2026-03-01T00:00:00Z') }, ctx)).toEqual([]);
  });

  it('a connection to an AI API address is an event; a removed socket and an unknown address are not', () => {
    const batch = records('results-batch-numerics.jsonl')[0]!;
    const events = aiToolEvents(batch, ctx);
    expect(events).toHaveLength(1);
    expect(events[0]!.targets).toEqual([{ type: 'ai_api', id: 'openai-api', name: 'OpenAI API' }, { type: 'network_address', id: '198.51.100.25:443', name: null }]);
  });

  it('event ids are deterministic from host, query, time, action and row: a re-read makes no second event', () => {
    const batch = records('results-batch-numerics.jsonl')[0]!;
    const once = aiToolEvents(batch, ctx).map((e) => e.event_id);
    expect(aiToolEvents(structuredClone(batch), { ...ctx, ingestedAt: 1 }).map((e) => e.event_id)).toEqual(once);
    // The same row at another run, or on another host, is another event.
    expect(aiToolEvents({ ...batch, timeMs: batch.timeMs + 60_000 }, ctx)[0]!.event_id).not.toBe(once[0]);
    expect(aiToolEvents({ ...batch, hostIdentifier: 'other' }, ctx)[0]!.event_id).not.toBe(once[0]);
  });

  it('the same row listed twice in one record is one event', () => {
    const processes = records('results-event.jsonl')[4]!;
    expect(aiToolEvents({ ...processes, rows: [processes.rows[0]!, processes.rows[0]!] }, ctx)).toHaveLength(1);
  });
});
