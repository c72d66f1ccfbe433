// Services run as deployed, as child processes of a test: a one-shot command
// run to completion, long-running services started and stopped, and waits
// that fail with what the running services last said.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { waitFor } from './index.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

export interface ServiceProcesses {
  /** Runs `script` (relative to the checkout) to completion; throws with its output when it exits non-zero. */
  run(script: string, args?: readonly string[], extra?: NodeJS.ProcessEnv): Promise<void>;
  /** Starts a long-running service; its output is kept for `until`'s failure message. */
  start(script: string, args?: readonly string[], extra?: NodeJS.ProcessEnv): ChildProcess;
  /** waitFor, failing with the started services' last log lines. */
  until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs?: number): Promise<T>;
  /** SIGTERM to every started service, waiting for each to exit. */
  stopAll(): Promise<void>;
}

export function serviceProcesses(env: NodeJS.ProcessEnv): ServiceProcesses {
  const started: ChildProcess[] = [];
  const logs = new Map<string, Buffer[]>();
  const spawnWith = (script: string, args: readonly string[], extra: NodeJS.ProcessEnv) => {
    const child = spawn(process.execPath, [path.join(ROOT, script), ...args], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => output.push(c));
    child.stderr!.on('data', (c: Buffer) => output.push(c));
    return { child, output };
  };
  return {
    async run(script, args = [], extra = {}) {
      const { child, output } = spawnWith(script, args, extra);
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}:\n${Buffer.concat(output).toString().slice(-2_000)}`);
    },
    start(script, args = [], extra = {}) {
      const { child, output } = spawnWith(script, args, extra);
      logs.set(script, output);
      started.push(child);
      return child;
    },
    async until(check, what, timeoutMs = 180_000) {
      try {
        return await waitFor(check, { timeoutMs, what });
      } catch (err) {
        const said = [...logs].map(([script, output]) => `--- ${script}\n${Buffer.concat(output).toString().slice(-3_000)}`).join('\n');
        throw new Error(`${(err as Error).message}\n${said}`);
      }
    },
    async stopAll() {
      for (const child of started) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
