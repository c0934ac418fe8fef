/** Devices and command messages as the API shows them: snake_case devices; poll messages in the seed's camelCase. */
import { z } from 'zod';
import type { Device } from '../../domain/devices/device.types.ts';

export const deviceSchema = z
  .object({
    id: z.string().meta({ example: 'light-1' }),
    type: z.string().meta({ example: 'action.devices.types.LIGHT' }),
    traits: z.array(z.string()).meta({ example: ['action.devices.traits.OnOff', 'action.devices.traits.Brightness'] }),
    name: z.string(),
    nicknames: z.array(z.string()),
    room: z.string().nullable(),
    attributes: z.record(z.string(), z.unknown()),
    state: z.record(z.string(), z.unknown()),
    online: z.boolean(),
    last_seen_at: z.iso.datetime().nullable(),
    will_report_state: z.boolean(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Device' });

export const deviceListSchema = z.object({ count: z.number().int(), results: z.array(deviceSchema) }).meta({ id: 'DeviceList' });

export type PublicDevice = z.infer<typeof deviceSchema>;

export function presentDevice(d: Device): PublicDevice {
  return {
    id: d.id,
    type: d.type,
    traits: d.traits,
    name: d.name,
    nicknames: d.nicknames,
    room: d.room,
    attributes: d.attributes,
    state: d.state,
    online: d.online,
    last_seen_at: d.lastSeenAt ? d.lastSeenAt.toISOString() : null,
    will_report_state: d.willReportState,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}

/** One item of the seed's poll answer. */
export const wireMessageSchema = z
  .object({
    id: z.uuid(),
    deviceId: z.string().meta({ example: 'light-1' }),
    topic: z.string().meta({ example: 'light-1/action.devices.commands.OnOff' }),
    text: z.string().meta({ example: 'on' }),
    isRead: z.boolean(),
    timestamp: z.string().meta({ example: '2025-01-05T18:55:12.123456+00:00' }),
    payload: z.record(z.string(), z.unknown()).optional().meta({ description: 'Only with "withPayload": true' }),
    expiresAt: z.iso.datetime().optional().meta({ description: 'Only with "withPayload": true' }),
  })
  .meta({ id: 'DeviceMessage' });

export const pollResponseSchema = z
  .object({ status: z.literal('success'), messages: z.array(wireMessageSchema) })
  .meta({ id: 'PollResponse' });

export const messageCreatedSchema = wireMessageSchema.required({ payload: true, expiresAt: true }).meta({ id: 'DeviceCommandMessage' });
