/**
 * Devices over REST (`/api/devices/`, scope `devices` or the session) and the seed-compatible
 * `POST /api/poll-messages/` (with long-poll). Each handler is a call into the device services.
 */
import type Koa from 'koa';
import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import {
  ackIdsSchema,
  DEFAULT_POLL_LIMIT,
  deviceIdSchema,
  deviceUpdateSchema,
  MAX_POLL_LIMIT,
  newCommandSchema,
  newDeviceSchema,
  stateReportSchema,
} from '../../domain/devices/device.schemas.ts';
import { toWireMessage, toWireMessageWithPayload } from '../../domain/devices/device.types.ts';
import type { AppError } from '../../errors.ts';
import type { Api } from '../api.ts';
import { deviceListSchema, deviceSchema, messageCreatedSchema, pollResponseSchema, presentDevice } from '../presenters/device.ts';

const SCOPE = { scope: 'devices' } as const;
const TAGS = ['Devices'];
export const POLL_PATH = '/api/poll-messages';

const deviceParams = z.object({ id: deviceIdSchema });

/** A number, or (form bodies) its decimal text. */
const numberish = (schema: z.ZodNumber) => z.union([schema, z.string().regex(/^\d+(\.\d+)?$/, 'must be a number').transform(Number).pipe(schema)]);

/** A list, or (form bodies) one value; the seed also sent an empty string for "none". */
const ackList = z.preprocess((v) => (v === '' || v === null ? [] : typeof v === 'string' ? [v] : v), ackIdsSchema);

const pollBodySchema = z
  .object({
    messagesRead: ackList.optional().meta({ description: 'Ids of messages handled since the last poll; marked read first.' }),
    deviceId: deviceIdSchema.optional().meta({ description: 'Only this device’s messages.' }),
    limit: numberish(z.number().int().min(1).max(MAX_POLL_LIMIT)).optional().meta({ description: `At most this many messages (default ${DEFAULT_POLL_LIMIT}).` }),
    wait: numberish(z.number().min(0).max(3600))
      .optional()
      .meta({ description: 'Long-poll: hold the request up to this many seconds (capped by DEVICE_POLL_MAX_WAIT) until a message arrives.' }),
    withPayload: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).optional().meta({ description: 'Add each message’s payload and expiresAt.' }),
  })
  .meta({ id: 'PollRequest' });

/**
 * The seed's error envelope for the poll endpoint: `{"status": "error", "message": …}` (plus our `code`
 * and `details`), for every error on that path including unparsable bodies. Mount before the body parser.
 */
export function pollErrorEnvelope(): Koa.Middleware {
  const render = (err: AppError) => ({ status: 'error', message: err.message, code: err.code, ...(err.details === undefined ? {} : { details: err.details }) });
  return async (ctx, next) => {
    if (ctx.path === POLL_PATH || ctx.path === `${POLL_PATH}/`) ctx.state.renderError = render;
    await next();
  };
}

export function registerDeviceRoutes(api: Api, app: AppContext): void {
  const { devices, deviceMessages } = app.services;
  const pollLimiter = app.limiters({ name: 'device-poll', points: app.config.devices.pollRatePerMinute, duration: 60 });
  const commandLimiter = app.limiters({ name: 'device-command', points: 120, duration: 60 });

  api.route({
    method: 'post',
    path: POLL_PATH,
    summary: 'Poll command messages (acknowledge, then fetch; optional long-poll)',
    description:
      'Wire-compatible with MessageBridge: `{"messagesRead": [ids]}` → `{"status": "success", "messages": [...]}`. Only the caller’s devices’ unread, unexpired messages, oldest first. Errors: `{"status": "error", "message": …}`.',
    tags: TAGS,
    auth: SCOPE,
    body: pollBodySchema,
    bodyTypes: ['json', 'form'],
    response: pollResponseSchema,
    errors: { 404: 'deviceId is not one of your devices', 429: 'Too many polls' },
    handler: async (ctx, { actor, body }) => {
      await pollLimiter.consume(actor.user.id);
      const aborted = new AbortController();
      const onClose = () => aborted.abort();
      ctx.res.once('close', onClose);
      try {
        const messages = await deviceMessages.poll(actor.user.id, {
          ...(body.messagesRead ? { messagesRead: body.messagesRead } : {}),
          ...(body.deviceId !== undefined ? { deviceId: body.deviceId } : {}),
          ...(body.limit !== undefined ? { limit: body.limit } : {}),
          ...(body.wait !== undefined ? { wait: body.wait } : {}),
          signal: aborted.signal,
        });
        ctx.set('Cache-Control', 'no-store');
        return { status: 'success' as const, messages: messages.map(body.withPayload ? toWireMessageWithPayload : toWireMessage) };
      } finally {
        ctx.res.off('close', onClose);
      }
    },
  });

  api.route({
    method: 'get',
    path: '/api/devices',
    summary: 'List my devices',
    tags: TAGS,
    auth: SCOPE,
    response: deviceListSchema,
    handler: async (_ctx, { actor }) => {
      const list = await devices.list(actor.user.id);
      return { count: list.length, results: list.map(presentDevice) };
    },
  });

  api.route({
    method: 'post',
    path: '/api/devices',
    summary: 'Register a device',
    description: 'Type and traits are Google ids (`action.devices.types.LIGHT` or just `LIGHT`). The id is optional (a UUID otherwise) and immutable.',
    tags: TAGS,
    auth: SCOPE,
    body: newDeviceSchema,
    status: 201,
    response: deviceSchema,
    errors: { 409: 'Duplicate id (device_exists) or too many devices (device_limit_reached)' },
    handler: async (_ctx, { actor, body }) => presentDevice(await devices.create(actor.user.id, body)),
  });

  api.route({
    method: 'get',
    path: '/api/devices/:id',
    summary: 'One of my devices',
    tags: TAGS,
    auth: SCOPE,
    params: deviceParams,
    response: deviceSchema,
    errors: { 404: 'No such device of yours' },
    handler: async (_ctx, { actor, params }) => presentDevice(await devices.get(actor.user.id, params.id)),
  });

  api.route({
    method: 'patch',
    path: '/api/devices/:id',
    summary: 'Change a device’s description',
    tags: TAGS,
    auth: SCOPE,
    params: deviceParams,
    body: deviceUpdateSchema,
    response: deviceSchema,
    errors: { 404: 'No such device of yours' },
    handler: async (_ctx, { actor, params, body }) => presentDevice(await devices.update(actor.user.id, params.id, body)),
  });

  api.route({
    method: 'delete',
    path: '/api/devices/:id',
    summary: 'Delete a device and its messages',
    tags: TAGS,
    auth: SCOPE,
    params: deviceParams,
    status: 204,
    errors: { 404: 'No such device of yours' },
    handler: async (_ctx, { actor, params }) => {
      await devices.remove(actor.user.id, params.id);
    },
  });

  for (const method of ['patch', 'put'] as const) {
    api.route({
      method,
      path: '/api/devices/:id/state',
      summary: method === 'patch' ? 'Report state (merged into the current state)' : 'Report the whole state (replaces it)',
      description: 'Sent by the device: the state becomes the device’s state and the device counts as online (unless `"online": false`).',
      tags: TAGS,
      auth: SCOPE,
      params: deviceParams,
      body: stateReportSchema,
      response: deviceSchema,
      errors: { 404: 'No such device of yours' },
      handler: async (_ctx, { actor, params, body }) => presentDevice(await devices.reportState(actor.user.id, params.id, body, { replace: method === 'put' })),
    });
  }

  api.route({
    method: 'post',
    path: '/api/devices/:id/commands',
    summary: 'Send a command to a device',
    description: 'Stores a command message exactly as a Google EXECUTE would; the device receives it on its next poll or live on its socket.',
    tags: TAGS,
    auth: SCOPE,
    params: deviceParams,
    body: newCommandSchema,
    status: 201,
    response: messageCreatedSchema,
    errors: { 404: 'No such device of yours', 429: 'Too many commands' },
    handler: async (_ctx, { actor, params, body }) => {
      await commandLimiter.consume(actor.user.id);
      return toWireMessageWithPayload(await deviceMessages.createCommand(actor.user.id, params.id, body));
    },
  });
}
