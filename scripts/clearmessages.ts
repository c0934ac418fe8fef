/**
 * `npm run clearmessages`: delete device messages read, or expired, longer ago than
 * DEVICE_MESSAGE_RETENTION, once — for cron when the in-process cleanup is off
 * (DEVICE_MESSAGE_CLEANUP_INTERVAL=0). Prints how many were deleted; exits non-zero on failure.
 */
import { loadConfig } from '../src/config.ts';
import { createDb } from '../src/db/client.ts';
import { createDeviceMessageService } from '../src/domain/devices/device-message.service.ts';
import { createDeviceService } from '../src/domain/devices/device.service.ts';
import { EventBus } from '../src/infra/events.ts';
import { createPubSub } from '../src/infra/pubsub.ts';
import { createLogger } from '../src/logger.ts';

const config = loadConfig();
const logger = createLogger(config);
const db = await createDb(config, logger);
let exitCode = 0;
try {
  const events = new EventBus(logger);
  const pubsub = createPubSub(null, logger);
  const devices = createDeviceService({ db: db.db, events, config: config.devices });
  const messages = createDeviceMessageService({ db: db.db, events, pubsub, devices, logger, config: config.devices });
  const deleted = await messages.cleanup();
  logger.info({ deleted, retentionSeconds: config.devices.retentionSeconds }, `deleted ${deleted} device message(s)`);
} catch (err) {
  logger.error({ err }, 'device message cleanup failed');
  exitCode = 1;
} finally {
  await db.close();
}
// Set after closing: the embedded database's runtime resets process.exitCode when it shuts down.
process.exit(exitCode);
