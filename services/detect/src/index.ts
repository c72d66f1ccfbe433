// Entry point of the service as deployed: `node services/detect/src/index.ts` is `detect run`.
import { main } from './cli.ts';

process.exitCode = await main(['run', ...process.argv.slice(2)]);
