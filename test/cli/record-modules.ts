// Loaded with `node --import` by the module-count test: records the URL of
// every module the process loads (ESM and CommonJS) and writes them, one per
// line, to TETHER_TEST_MODULE_LOG when the process exits.
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';

const loaded = new Set<string>();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => {
  const target = process.env.TETHER_TEST_MODULE_LOG;
  if (target) writeFileSync(target, [...loaded].join('\n'));
});
