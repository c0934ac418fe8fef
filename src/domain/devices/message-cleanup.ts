/**
 * The in-process scheduler for device message cleanup: runs `cleanup()` every interval (first run after a
 * random part of it, so nodes started together do not run in step). `npm run clearmessages` does the same
 * once, for cron.
 */
import type { Logger } from '../../logger.ts';
import type { DeviceMessageService } from './device-message.service.ts';

export interface CleanupScheduler {
  /** Stop scheduling and wait for a run in progress. */
  stop(): Promise<void>;
}

/** Start the periodic cleanup; `intervalSeconds` 0 schedules nothing. */
export function startMessageCleanup(service: DeviceMessageService, intervalSeconds: number, logger: Logger): CleanupScheduler {
  const log = logger.child({ subsystem: 'devices' });
  if (intervalSeconds <= 0) return { stop: async () => undefined };
  let running: Promise<void> | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout;
  const run = () => {
    running = service
      .cleanup()
      .then((n) => {
        if (n > 0) log.info({ deleted: n }, 'device messages cleaned up');
      })
      .catch((err: unknown) => log.error({ err }, 'device message cleanup failed'))
      .finally(() => {
        running = null;
        if (!stopped) schedule(intervalSeconds * 1000);
      });
  };
  const schedule = (ms: number) => {
    timer = setTimeout(run, ms);
    timer.unref();
  };
  schedule(Math.floor(Math.random() * intervalSeconds * 1000));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
