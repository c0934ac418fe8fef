/** zod schemas of Google's intent requests and of the device security settings owners manage. */
import { z } from 'zod';

export const INTENTS = {
  SYNC: 'action.devices.SYNC',
  QUERY: 'action.devices.QUERY',
  EXECUTE: 'action.devices.EXECUTE',
  DISCONNECT: 'action.devices.DISCONNECT',
} as const;

/** Upper bounds that keep one request's work bounded (Google's real requests are far smaller). */
export const LIMITS = { devices: 500, commands: 100, executions: 20 } as const;

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
              params: z.record(z.string(), z.unknown()).optional(),
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

/** Body of `PUT /api/smarthome/devices/:deviceId/security`. */
export const securityInputSchema = z
  .object({
    challenge: z.enum(['auto', 'ack', 'pin']),
    pin: z
      .string()
      .regex(/^\d{4,8}$/, '4 to 8 digits')
      .nullable()
      .optional(),
  })
  .strict()
  .refine((v) => v.challenge !== 'pin' || typeof v.pin === 'string', { message: 'a PIN is required for the pin challenge', path: ['pin'] });

export type SecurityInput = z.output<typeof securityInputSchema>;

export const deviceIdParamsSchema = z.object({ deviceId: z.string().min(1).max(256) });
