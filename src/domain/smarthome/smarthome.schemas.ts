/** zod schemas of Google's intent requests and of the device security settings owners manage. */
import { z } from 'zod';

export const INTENTS = {
  SYNC: 'action.devices.SYNC',
  QUERY: 'action.devices.QUERY',
  EXECUTE: 'action.devices.EXECUTE',
  DISCONNECT: 'action.devices.DISCONNECT',
} as const;

/** Upper bounds that keep one request's work bounded (Google's real requests are far smaller). */
export const LIMITS = { devices: 500, commands: 100, executions: 20, paramsBytes: 8 * 1024 } as const;

const deviceRef = z.object({
  id: z.string().min(1).max(256),
  customData: z.record(z.string(), z.unknown()).optional(),
});

export const envelopeSchema = z.object({
  requestId: z.string().max(1024),
  inputs: z
    .array(z.object({ intent: z.string().max(128), payload: z.unknown().optional() }))
    .min(1)
    .max(10),
});

export const queryPayloadSchema = z.object({ devices: z.array(deviceRef).max(LIMITS.devices) });

export const executePayloadSchema = z.object({
  commands: z
    .array(
      z.object({
        devices: z.array(deviceRef).min(1).max(LIMITS.devices),
        execution: z
          .array(
            z.object({
              command: z.string().min(1).max(128),
              // The params travel to the device as the command message's payload, which is bounded.
              params: z
                .record(z.string(), z.unknown())
                .refine((p) => Buffer.byteLength(JSON.stringify(p)) <= LIMITS.paramsBytes, { message: 'params too large' })
                .optional(),
              challenge: z.object({ ack: z.boolean().optional(), pin: z.string().max(64).optional() }).optional(),
            }),
          )
          .min(1)
          .max(LIMITS.executions),
      }),
    )
    .min(1)
    .max(LIMITS.commands),
});

export type QueryPayload = z.output<typeof queryPayloadSchema>;
export type ExecutePayload = z.output<typeof executePayloadSchema>;

const googleName = z.string().trim().min(1).max(100);
const infoField = z.string().trim().min(1).max(100);

/** Body of `PATCH /api/smarthome/devices/:deviceId/`: what Google sees beyond the registry, and the challenge. */
export const settingsInputSchema = z
  .object({
    /** `auto`: locks, doors, garages, gates, windows (and camera power) ask for the PIN, or an ack without one. */
    challenge: z.enum(['auto', 'ack', 'pin']).optional(),
    /** 4–8 digits; null removes it. Stored hashed; never sent to Google. */
    pin: z
      .string()
      .regex(/^\d{4,8}$/, 'must be 4 to 8 digits')
      .nullable()
      .optional(),
    default_names: z.array(googleName).max(10).optional(),
    device_info: z
      .object({ manufacturer: infoField.optional(), model: infoField.optional(), hw_version: infoField.optional(), sw_version: infoField.optional() })
      .strict()
      .nullable()
      .optional(),
  })
  .strict();

export type SettingsInput = z.output<typeof settingsInputSchema>;

export const deviceIdParamsSchema = z.object({ deviceId: z.string().min(1).max(256) });
