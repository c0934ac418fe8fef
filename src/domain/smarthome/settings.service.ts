/**
 * What an owner sets about a device for Google beyond the registry: the challenge (secondary user
 * verification) and its PIN, default names and hardware info for SYNC. Changes that alter SYNC announce
 * `device.changed` so Google is asked to sync.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { ValidationError } from '../../errors.ts';
import type { EventBus } from '../../infra/events.ts';
import type { DeviceService } from '../devices/device.service.ts';
import { hashPin, type ChallengeMode } from './challenge.ts';
import * as repo from './smarthome.repository.ts';
import type { SettingsInput } from './smarthome.schemas.ts';

export interface SmartHomeSettings {
  deviceId: string;
  challenge: ChallengeMode;
  hasPin: boolean;
  /** Set while too many wrong PINs keep the challenge locked. */
  pinLockedUntil: Date | null;
  defaultNames: string[];
  deviceInfo: { manufacturer?: string; model?: string; hwVersion?: string; swVersion?: string } | null;
}

export interface SettingsServiceDeps {
  db: Kysely<Database>;
  devices: Pick<DeviceService, 'get'>;
  events: EventBus;
}

function present(deviceId: string, row: repo.DeviceSettingsRow | undefined): SmartHomeSettings {
  return {
    deviceId,
    challenge: row?.mode ?? 'auto',
    hasPin: !!row?.pinHash,
    pinLockedUntil: row?.lockedUntil && row.lockedUntil > new Date() ? row.lockedUntil : null,
    defaultNames: row?.defaultNames ?? [],
    deviceInfo: row?.deviceInfo ?? null,
  };
}

/** Build the settings service (owner checks go through the device registry). */
export function createSmartHomeSettingsService(deps: SettingsServiceDeps) {
  const { db } = deps;

  async function get(ownerId: string, deviceId: string): Promise<SmartHomeSettings> {
    await deps.devices.get(ownerId, deviceId);
    const [row] = await repo.findSettings(db, ownerId, [deviceId]);
    return present(deviceId, row);
  }

  return {
    /** A device's settings (defaults when never set). Throws NotFoundError `device_not_found` for others' devices. */
    get,

    /**
     * Change some settings. A PIN is hashed before storage; setting or removing it clears failed attempts.
     * Throws NotFoundError `device_not_found`, ValidationError when `pin` mode would have no PIN.
     */
    async update(ownerId: string, deviceId: string, input: SettingsInput): Promise<SmartHomeSettings> {
      await deps.devices.get(ownerId, deviceId);
      const [current] = await repo.findSettings(db, ownerId, [deviceId]);
      const mode = input.challenge ?? current?.mode ?? 'auto';
      const willHavePin = input.pin === undefined ? !!current?.pinHash : input.pin !== null;
      if (mode === 'pin' && !willHavePin) {
        throw new ValidationError('The pin challenge needs a PIN', [{ path: 'pin', message: 'required when challenge is "pin"' }]);
      }
      const info = input.device_info;
      await repo.upsertSettings(db, ownerId, deviceId, {
        ...(input.challenge !== undefined ? { challenge: input.challenge } : {}),
        ...(input.pin !== undefined ? { pinHash: input.pin === null ? null : await hashPin(input.pin) } : {}),
        ...(input.default_names !== undefined ? { defaultNames: input.default_names } : {}),
        ...(info !== undefined
          ? {
              deviceInfo:
                info === null
                  ? null
                  : {
                      ...(info.manufacturer ? { manufacturer: info.manufacturer } : {}),
                      ...(info.model ? { model: info.model } : {}),
                      ...(info.hw_version ? { hwVersion: info.hw_version } : {}),
                      ...(info.sw_version ? { swVersion: info.sw_version } : {}),
                    },
            }
          : {}),
      });
      if (input.default_names !== undefined || info !== undefined) {
        await deps.events.emit('device.changed', { ownerId, deviceId, change: 'updated' });
      }
      return get(ownerId, deviceId);
    },
  };
}

export type SmartHomeSettingsService = ReturnType<typeof createSmartHomeSettingsService>;
