// Preloaded with `node --import` by bench/query-memory.ts: when the process
// exits, writes its peak resident set (VmHWM, kernel-measured) in MB to the
// file named by BENCH_RSS_FILE.
import { readFileSync, writeFileSync } from 'node:fs';

process.on('exit', () => {
  const target = process.env.BENCH_RSS_FILE;
  if (!target) return;
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  writeFileSync(target, String(Math.round(Number(kb) / 1024)));
});
