// `tether query --help` (and the query CLI's own entry) loads no Kafka
// client: the query layer needs ClickHouse only, and #service's ops side is
// apart from the pipeline wiring. Counted with a module loader hook.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, run } from './run.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tether-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KAFKA_CLIENT = /node_modules\/(kafkajs|@platformatic\/kafka)\//;

async function modulesLoaded(entry: string, args: string[]): Promise<string[]> {
  const log = path.join(dir, `${path.basename(entry)}-${args.join('-')}.txt`);
  const { code, stderr } = await run(entry, args, { TETHER_TEST_MODULE_LOG: log }, { nodeArgs: ['--import', path.join(ROOT, 'test/cli/record-modules.ts')] });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return readFileSync(log, 'utf8').split('\n');
}

describe('modules loaded', { timeout: 60_000 }, () => {
  it.each([
    ['packages/cli/src/tether.ts', ['query', '--help']],
    ['packages/cli/src/tether.ts', ['query', 'trail', '--help']],
    ['packages/cli/src/tether.ts', ['--help']],
    ['services/query/src/index.ts', ['--help']],
  ])('%s %s loads no Kafka client', async (entry, args) => {
    const modules = await modulesLoaded(path.join(ROOT, entry), args);
    expect(modules.length).toBeGreaterThan(10);
    expect(modules.filter((m) => KAFKA_CLIENT.test(m))).toEqual([]);
  });

  it('the hook sees Kafka clients where they are loaded (the check above can fail)', async () => {
    const modules = await modulesLoaded(path.join(ROOT, 'packages/cli/src/tether.ts'), ['enrich', '--help']);
    expect(modules.some((m) => KAFKA_CLIENT.test(m))).toBe(true);
  });
});
