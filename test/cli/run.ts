// Runs a command as its users do: a child process on the pinned Node, with
// the environment given (and nothing else of TETHER_*), capturing both
// streams and the exit code.
import { spawn } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const NODE = path.join(ROOT, 'node_modules/node/bin/node');
export const TETHER = path.join(ROOT, 'bin/tether');

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The parent's environment without TETHER_* variables, plus `env`. */
export function childEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TETHER_')));
  return { ...base, ...env };
}

export function run(command: string, args: readonly string[], env: Record<string, string> = {}, options: { timeoutMs?: number; nodeArgs?: string[] } = {}): Promise<Ran> {
  const [bin, argv] = command === 'tether' ? [TETHER, args] : [NODE, [...(options.nodeArgs ?? []), command, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${options.timeoutMs ?? 60_000} ms; stderr: ${Buffer.concat(err).toString()}`));
    }, options.timeoutMs ?? 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Lines of stderr that are not the service's JSON log lines. */
export function plainLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{"level"'));
}
