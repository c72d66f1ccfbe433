import { describe, expect, it } from 'vitest';
import { loadSinkConfig } from '../src/config.ts';

describe('sink config', () => {
  it('has defaults for every knob', () => {
    const config = loadSinkConfig({});
    expect(config).toMatchObject({
      TETHER_SINK_BATCH_ROWS: 20_000, TETHER_SINK_BATCH_MAX_WAIT_MS: 1_000, TETHER_SINK_STREAMS: ['events', 'identity', 'dlq', 'findings'],
      TETHER_SINK_RETRY_MAX_MS: 15_000, TETHER_SINK_INSERT_TIMEOUT_MS: 30_000, TETHER_SINK_PORT: 9420,
    });
  });

  it('parses the knobs and names the variable that is wrong', () => {
    expect(loadSinkConfig({ TETHER_SINK_BATCH_ROWS: '5000', TETHER_SINK_STREAMS: 'events, dlq' })).toMatchObject({
      TETHER_SINK_BATCH_ROWS: 5_000, TETHER_SINK_STREAMS: ['events', 'dlq'],
    });
    expect(() => loadSinkConfig({ TETHER_SINK_BATCH_ROWS: '0' })).toThrow(/TETHER_SINK_BATCH_ROWS/);
    expect(() => loadSinkConfig({ TETHER_SINK_STREAMS: 'events,audit' })).toThrow(/TETHER_SINK_STREAMS/);
  });
});
