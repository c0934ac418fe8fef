/**
 * Builds the smart-home feature from the device registry, the OAuth grant revocation and the Home Graph
 * client: the intent service, the owners' settings service, and the reactions that keep Google in step
 * (Report State on `device.state.reported`, Request Sync on `device.changed`).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { EventBus } from '../../infra/events.ts';
import type { HomeGraphClient } from '../../infra/homegraph.ts';
import type { Logger } from '../../logger.ts';
import type { DeviceMessageService } from '../devices/device-message.service.ts';
import type { DeviceService } from '../devices/device.service.ts';
import type { StateReportInput } from '../devices/device.schemas.ts';
import type { Device } from '../devices/device.types.ts';
import type { ChallengeLimits, SecurityStore } from './challenge.ts';
import { createSmartHomeService, type LinkStore, type SmartHomeDevicePort, type SmartHomeService } from './fulfillment.service.ts';
import { createSmartHomeSettingsService, type SmartHomeSettingsService } from './settings.service.ts';
import * as repo from './smarthome.repository.ts';
import type { SmartDevice } from './smarthome.types.ts';
import { projectState } from './traits.ts';

export interface SmartHomeDeps {
  db: Kysely<Database>;
  events: EventBus;
  devices: DeviceService;
  deviceMessages: DeviceMessageService;
  homegraph: HomeGraphClient;
  /** Revoke one OAuth grant of the user: its access and refresh tokens stop working. */
  revokeGrant(grantId: string, userId: string): Promise<void>;
  challengeLimits: ChallengeLimits;
  logger: Logger;
}

export interface SmartHome {
  service: SmartHomeService;
  settings: SmartHomeSettingsService;
}

function toSmartDevice(d: Device, s: repo.DeviceSettingsRow | undefined): SmartDevice {
  return {
    id: d.id,
    userId: d.ownerId,
    type: d.type,
    traits: d.traits,
    name: d.name,
    nicknames: d.nicknames,
    defaultNames: s?.defaultNames ?? [],
    roomHint: d.room,
    attributes: d.attributes,
    state: d.state,
    online: d.online,
    willReportState: d.willReportState,
    deviceInfo: s?.deviceInfo ?? null,
    customData: null,
  };
}

/** Wire the feature and subscribe its event reactions. */
export function createSmartHome(deps: SmartHomeDeps): SmartHome {
  const { db, events, homegraph } = deps;
  const log = deps.logger.child({ subsystem: 'smarthome' });

  const withSettings = async (ownerId: string, list: Device[]): Promise<SmartDevice[]> => {
    if (list.length === 0) return [];
    const settings = new Map((await repo.findSettings(db, ownerId, list.length > 50 ? undefined : list.map((d) => d.id))).map((s) => [s.deviceId, s]));
    return list.map((d) => toSmartDevice(d, settings.get(d.id)));
  };

  const port: SmartHomeDevicePort = {
    listForUser: async (userId) => withSettings(userId, await deps.devices.list(userId)),
    findForUser: async (userId, ids) => withSettings(userId, await deps.devices.getMany(userId, ids)),
    async applyCommands(userId, changes) {
      // Commands first: if storing the expected state fails, the devices still act and report back.
      await deps.deviceMessages.createCommands(
        userId,
        changes.flatMap((ch) => ch.commands.map((c) => ({ deviceId: ch.deviceId, command: c.command, params: c.params }))),
      );
      // The state came out of Google's JSON and the device's own JSON state: it is JSON.
      await Promise.all(
        changes.map((ch) => deps.devices.reportState(userId, ch.deviceId, { state: ch.state as StateReportInput['state'] }, { replace: true, fromDevice: false })),
      );
    },
  };

  const security: SecurityStore = {
    get: async (userId, ids) => new Map((await repo.findSettings(db, userId, ids)).map((s) => [s.deviceId, s])),
    recordFailure: (userId, deviceId, max, until) => repo.recordPinFailure(db, userId, deviceId, max, until),
    reset: (userId, deviceId) => repo.resetPinFailures(db, userId, deviceId),
  };

  // Tokens without a grant (none are issued today) share one link row per user.
  const linkKey = (userId: string, grantId: string | undefined) => grantId ?? `user:${userId}`;
  const links: LinkStore = {
    linked: (userId, grantId) => repo.markLinked(db, userId, linkKey(userId, grantId)),
    unlinked: (userId, grantId) => repo.markUnlinked(db, linkKey(userId, grantId)),
  };

  const service = createSmartHomeService({
    devices: port,
    security,
    links,
    reporter: { enabled: homegraph.enabled },
    revokeGrant: deps.revokeGrant,
    challengeLimits: deps.challengeLimits,
    logger: deps.logger,
  });

  /** Run a reaction off the emitter's path: a Home Graph decision never delays a device or an intent. */
  const detached = (what: string, fn: () => Promise<void>) => {
    void fn().catch((err) => log.error({ err }, `${what} failed`));
  };

  // However a grant ends (DISCONNECT, the user, an admin), its link is gone.
  events.on('oauth.grant_revoked', ({ grantId }) => repo.markUnlinked(db, grantId));

  if (homegraph.enabled) {
    events.on('device.state.reported', (e) => {
      if (!e.willReportState) return;
      detached('report state', async () => {
        if (!(await repo.hasActiveLink(db, e.ownerId))) return;
        const [d] = await port.findForUser(e.ownerId, [e.deviceId]);
        if (!d || d.type.endsWith('.SCENE')) return;
        homegraph.reportState(e.ownerId, { [d.id]: { online: d.online, ...projectState(d) } });
      });
    });
    events.on('device.changed', (e) => {
      detached('request sync', async () => {
        if (await repo.hasActiveLink(db, e.ownerId)) homegraph.requestSync(e.ownerId);
      });
    });
  }

  return { service, settings: createSmartHomeSettingsService({ db, devices: deps.devices, events }) };
}

/** Home Graph 404 for an agent user: stop reporting for them until Google syncs again. */
export function homegraphNotFoundHandler(db: Kysely<Database>, logger: Logger): (agentUserId: string) => void {
  return (agentUserId) => {
    void repo.markHomeGraphMissing(db, agentUserId).catch((err) => logger.error({ err }, 'marking an unlinked agent user failed'));
  };
}
