/** zod schemas for devices, state reports and command messages, shared by REST, sockets and the admin. */
import { z } from 'zod';
import { COMMAND_ID_PATTERN, fullTraitId, fullTypeId, GOOGLE_DEVICE_TRAITS, GOOGLE_DEVICE_TYPES } from './google-vocabulary.ts';

/** Largest serialized `attributes` and `state` objects (bytes of JSON). */
export const MAX_DEVICE_JSON_BYTES = 16 * 1024;
/** Largest serialized command parameters. */
export const MAX_COMMAND_PAYLOAD_BYTES = 8 * 1024;
/** Most ids one poll may acknowledge. */
export const MAX_ACKS_PER_POLL = 1000;
/** Largest `limit` of one poll. */
export const MAX_POLL_LIMIT = 500;
export const DEFAULT_POLL_LIMIT = 100;

/** Letters, digits and `._:-`, up to 100, starting with a letter or digit (never `/`: it ends the topic's device part). */
export const deviceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'must be 1–100 letters, digits or . _ : -, starting with a letter or digit');

/** A JSON object whose serialized form stays under `maxBytes`. */
export function jsonObjectSchema(maxBytes: number) {
  return z.record(z.string(), z.json()).superRefine((v, ctx) => {
    const size = Buffer.byteLength(JSON.stringify(v));
    if (size > maxBytes) ctx.addIssue({ code: 'custom', message: `must serialize to at most ${maxBytes} bytes of JSON (got ${size})` });
  });
}

export const deviceTypeSchema = z
  .string()
  .max(100)
  .transform(fullTypeId)
  .refine((t) => GOOGLE_DEVICE_TYPES.has(t), { message: 'must be a Google device type, e.g. action.devices.types.LIGHT' });

export const deviceTraitSchema = z
  .string()
  .max(100)
  .transform(fullTraitId)
  .refine((t) => GOOGLE_DEVICE_TRAITS.has(t), { message: 'must be a Google device trait, e.g. action.devices.traits.OnOff' });

const traitsSchema = z
  .array(deviceTraitSchema)
  .min(1)
  .max(40)
  .refine((a) => new Set(a).size === a.length, { message: 'must not repeat a trait' });

const nameSchema = z.string().trim().min(1).max(100);

export const newDeviceSchema = z
  .object({
    /** Optional: a random UUID when absent. */
    id: deviceIdSchema.optional(),
    type: deviceTypeSchema,
    traits: traitsSchema,
    name: nameSchema,
    nicknames: z.array(nameSchema).max(20).optional(),
    room: z.string().trim().max(100).nullable().optional(),
    attributes: jsonObjectSchema(MAX_DEVICE_JSON_BYTES).optional(),
    state: jsonObjectSchema(MAX_DEVICE_JSON_BYTES).optional(),
    will_report_state: z.boolean().optional(),
  })
  .strict();
export type NewDeviceInput = z.infer<typeof newDeviceSchema>;

/** What an owner may change; the id is immutable and the state comes from state reports. */
export const deviceUpdateSchema = newDeviceSchema.omit({ id: true, state: true }).partial().strict();
export type DeviceUpdateInput = z.infer<typeof deviceUpdateSchema>;

/** A device's report of its actual state. */
export const stateReportSchema = z
  .object({
    state: jsonObjectSchema(MAX_DEVICE_JSON_BYTES),
    /** A device going away cleanly may report `false`; any report otherwise marks it online. */
    online: z.boolean().optional(),
  })
  .strict();
export type StateReportInput = z.infer<typeof stateReportSchema>;

/** A command for a device, as EXECUTE or the owner sends it. */
export const newCommandSchema = z
  .object({
    command: z.string().regex(COMMAND_ID_PATTERN, 'must be a Google command id, e.g. action.devices.commands.OnOff'),
    params: jsonObjectSchema(MAX_COMMAND_PAYLOAD_BYTES).default({}),
  })
  .strict();
/** A command as callers pass it (the service validates it with `newCommandSchema`). */
export interface NewCommandInput {
  command: string;
  params?: Record<string, unknown>;
}

/** Ids of messages to acknowledge. */
export const ackIdsSchema = z.array(z.uuid({ message: 'must be a message id (UUID)' })).max(MAX_ACKS_PER_POLL);

/** Options of one poll (transport-independent part). */
export interface PollOptions {
  /** Message ids to mark read before fetching. */
  messagesRead?: readonly string[];
  /** Only this device's messages. */
  deviceId?: string;
  /** At most this many messages (default 100). */
  limit?: number;
  /** Hold the request up to this many seconds (capped by config) until a message arrives. */
  wait?: number;
  /** Stops waiting (the client went away). */
  signal?: AbortSignal;
}
