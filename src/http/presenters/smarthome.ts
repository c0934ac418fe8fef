/** Smart-home device settings as the API shows them (snake_case). Never the PIN or its hash. */
import { z } from 'zod';
import type { SmartHomeSettings } from '../../domain/smarthome/settings.service.ts';

export const smartHomeSettingsSchema = z
  .object({
    device_id: z.string(),
    challenge: z.enum(['auto', 'ack', 'pin']),
    has_pin: z.boolean(),
    pin_locked_until: z.iso.datetime().nullable(),
    default_names: z.array(z.string()),
    device_info: z
      .object({ manufacturer: z.string().optional(), model: z.string().optional(), hw_version: z.string().optional(), sw_version: z.string().optional() })
      .nullable(),
  })
  .meta({ id: 'SmartHomeDeviceSettings' });

/** The public JSON of a device's settings (`has_pin`, never the PIN). */
export function presentSmartHomeSettings(s: SmartHomeSettings): z.infer<typeof smartHomeSettingsSchema> {
  const i = s.deviceInfo;
  return {
    device_id: s.deviceId,
    challenge: s.challenge,
    has_pin: s.hasPin,
    pin_locked_until: s.pinLockedUntil ? s.pinLockedUntil.toISOString() : null,
    default_names: s.defaultNames,
    device_info: i
      ? {
          ...(i.manufacturer ? { manufacturer: i.manufacturer } : {}),
          ...(i.model ? { model: i.model } : {}),
          ...(i.hwVersion ? { hw_version: i.hwVersion } : {}),
          ...(i.swVersion ? { sw_version: i.swVersion } : {}),
        }
      : null,
  };
}
