/**
 * Devices on a socket (a bearer token with the `devices` scope, acting for the devices' owner): command
 * messages arrive live as `device:command` (see publisher.ts); the device fetches what it missed,
 * acknowledges, and reports its state. Thin adapters over the devices services, so sockets and HTTP
 * polling share one acknowledgement state.
 */
import { z } from 'zod';
import { ackIdsSchema, deviceIdSchema, MAX_POLL_LIMIT, stateReportSchema } from '../../domain/devices/device.schemas.ts';
import { toWireMessageWithPayload } from '../../domain/devices/device.types.ts';
import { presentDevice } from '../../http/presenters/device.ts';
import { defineHandler } from '../handler.ts';
import type { RealtimeContext } from '../server.ts';
import type { RealtimeSocket } from '../events.ts';

const SCOPE = 'devices';

const fetchSchema = z.strictObject({
  device_id: deviceIdSchema.optional(),
  limit: z.number().int().min(1).max(MAX_POLL_LIMIT).optional(),
});
const ackSchema = z.strictObject({ ids: ackIdsSchema.min(1) });
const stateSchema = z.strictObject({ device_id: deviceIdSchema, ...stateReportSchema.shape });

export function registerDeviceHandlers(rt: RealtimeContext, socket: RealtimeSocket): void {
  const { devices, deviceMessages } = rt.app.services;
  const deps = rt.handlerDeps;
  const owner = () => socket.data.actor.user.id;

  socket.on(
    'device:fetch',
    defineHandler(deps, socket, { event: 'device:fetch', scope: SCOPE, schema: fetchSchema }, async (input) => {
      // Only the caller's own device (NotFound otherwise), as the HTTP poll does.
      if (input.device_id !== undefined) await devices.get(owner(), input.device_id);
      await devices.markSeen(owner(), input.device_id);
      const messages = await deviceMessages.fetchUnread(owner(), {
        ...(input.device_id !== undefined ? { deviceId: input.device_id } : {}),
        ...(input.limit !== undefined ? { limit: input.limit } : {}),
      });
      return { messages: messages.map(toWireMessageWithPayload) };
    }),
  );

  socket.on(
    'device:ack',
    defineHandler(deps, socket, { event: 'device:ack', scope: SCOPE, schema: ackSchema }, async (input) => ({
      acknowledged: await deviceMessages.ack(owner(), input.ids),
    })),
  );

  socket.on(
    'device:state',
    defineHandler(deps, socket, { event: 'device:state', scope: SCOPE, schema: stateSchema }, async (input) => {
      const { device_id, ...report } = input;
      return { device: presentDevice(await devices.reportState(owner(), device_id, report)) };
    }),
  );
}
