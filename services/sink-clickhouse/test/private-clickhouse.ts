// A ClickHouse 18.16 server of one test's own (own ports, own data dir), so
// the test can kill and restart it without touching the shared stack's
// server. Same minimal <yandex> config as infra/local/stack.sh writes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitFor } from '#testkit';

const SERVER_BINARIES = ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server'];

export interface PrivateClickHouse {
  url: string;
  tcpPort: number;
  /** Starts (or restarts) the server on the same data and waits until it answers. */
  start(): Promise<void>;
  /** SIGKILL: no shutdown, as in a crash. */
  kill(): Promise<void>;
  /** Graceful stop, for teardown. */
  stop(): Promise<void>;
}

export function clickHouseServerBinary(): string | undefined {
  return SERVER_BINARIES.find((bin) => existsSync(bin));
}


export async function privateClickHouse(dir: string): Promise<PrivateClickHouse> {
  const bin = clickHouseServerBinary();
  if (!bin) throw new Error('clickhouse-server is not installed (bash infra/local/stack.sh install)');
  const [httpPort, tcpPort] = [await freePort(), await freePort()];
  for (const sub of ['db', 'tmp', 'user_files', 'format_schemas', 'logs']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'config.xml'), `<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>${dir}/logs/server.log</log><errorlog>${dir}/logs/server.err.log</errorlog></logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>${httpPort}</http_port>
    <tcp_port>${tcpPort}</tcp_port>
    <path>${dir}/db/</path>
    <tmp_path>${dir}/tmp/</tmp_path>
    <user_files_path>${dir}/user_files/</user_files_path>
    <format_schema_path>${dir}/format_schemas/</format_schema_path>
    <users_config>${dir}/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mark_cache_size>67108864</mark_cache_size>
</yandex>
`);
  writeFileSync(path.join(dir, 'users.xml'), `<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
    <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`);
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;

  const answers = async () => {
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) });
      return res.ok;
    } catch {
      return false;
    }
  };

  const exited = (proc: ChildProcess) =>
    proc.exitCode !== null || proc.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => proc.once('exit', () => resolve()));

  return {
    url,
    tcpPort,
    async start() {
      const out = openSync(path.join(dir, 'logs', 'stdout.log'), 'a');
      child = spawn(bin, [`--config-file=${dir}/config.xml`], { cwd: dir, stdio: ['ignore', out, out] });
      const proc = child;
      await waitFor(async () => {
        if (proc.exitCode !== null) throw new Error(`clickhouse-server exited with ${proc.exitCode}; see ${dir}/logs`);
        return answers();
      }, { timeoutMs: 60_000, what: `private ClickHouse at ${url}` });
    },
    async kill() {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
      child = undefined;
    },
    async stop() {
      if (!child) return;
      child.kill('SIGTERM');
      const proc = child;
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited(proc);
      clearTimeout(timer);
      child = undefined;
    },
  };
}
