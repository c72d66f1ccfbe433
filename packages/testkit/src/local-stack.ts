// Starts (or reuses) the local stack of real servers and returns the
// endpoints it wrote to its env file, for the test setup and the demo.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../..');

export function upLocalStack(stateDir: string = path.join(ROOT, '.tether/stack')): Record<string, string> {
  execFileSync('bash', [path.join(ROOT, 'infra/local/stack.sh'), 'up'], { stdio: 'inherit', env: { ...process.env, TETHER_STACK_DIR: stateDir } });
  const endpoints: Record<string, string> = {};
  for (const line of readFileSync(path.join(stateDir, 'env'), 'utf8').split('\n')) {
    const match = /^(TETHER_[A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) endpoints[match[1]!] = match[2]!;
  }
  return endpoints;
}
