// Wires SIGTERM/SIGINT to a graceful stop within a grace period; a second
// signal or an expired grace period exits at once.
import type { Logger } from '#log';

export function onShutdown(log: Logger, stop: () => Promise<void>, graceMs = 30_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, graceMs }, 'stopping');
    const timer = setTimeout(() => {
      log.error({ graceMs }, 'graceful stop took too long: exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
