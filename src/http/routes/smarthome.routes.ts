/**
 * Google Smart Home: the fulfillment webhook Google calls with the account-linking bearer token, and the
 * owners' per-device settings for it (challenge, PIN, default names, hardware info).
 *
 * The webhook answers 401 only for a missing, invalid, expired or revoked token (so Google refreshes it);
 * everything else is HTTP 200 with Google's JSON, errors inside as `errorCode`.
 */
import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import { deviceIdParamsSchema, settingsInputSchema } from '../../domain/smarthome/smarthome.schemas.ts';
import { ForbiddenError, UnauthenticatedError } from '../../errors.ts';
import type { Api } from '../api.ts';
import { presentSmartHomeSettings, smartHomeSettingsSchema } from '../presenters/smarthome.ts';

/** Register the fulfillment webhook and the device settings routes. */
export function registerSmartHomeRoutes(api: Api, app: AppContext): void {
  const smarthome = app.services.smarthome;
  // Google's own traffic is modest; this only stops a leaked token from hammering the database.
  const limiter = app.limiters({ name: 'smarthome-fulfillment', points: 600, duration: 60 });

  api.route({
    method: 'post',
    path: '/smarthome/fulfillment',
    summary: 'Google Smart Home fulfillment (SYNC, QUERY, EXECUTE, DISCONNECT)',
    description:
      "Google's cloud-to-cloud intent webhook. Bearer token with scope `smarthome` (from account linking). " +
      'The body is Google\'s `{requestId, inputs: [{intent, payload}]}`; the answer echoes `requestId` and carries ' +
      'device and request errors as `errorCode` with HTTP 200. DISCONNECT revokes the calling grant and answers `{}`.',
    tags: ['smarthome'],
    auth: { scope: 'smarthome' },
    response: z.record(z.string(), z.unknown()),
    errors: { 401: 'Missing, invalid, expired or revoked token: Google refreshes and retries', 429: 'Too many requests' },
    handler: async (ctx, { actor }) => {
      // Only Google calls this, always with a token; a browser session is not a Google link.
      if (actor.via !== 'bearer') throw new UnauthenticatedError('Google calls this with a bearer token', 'invalid_token');
      await limiter.consume(actor.user.id);
      ctx.set('Cache-Control', 'no-store');
      return smarthome.service.fulfill({ userId: actor.user.id, ...(actor.grantId ? { grantId: actor.grantId } : {}) }, (ctx.request as { body?: unknown }).body);
    },
  });

  api.route({
    method: 'get',
    path: '/api/smarthome/devices/:deviceId',
    summary: "A device's Google settings",
    tags: ['smarthome'],
    auth: { scope: 'devices' },
    params: deviceIdParamsSchema,
    response: smartHomeSettingsSchema,
    errors: { 404: 'Not your device' },
    handler: async (_ctx, { actor, params }) => presentSmartHomeSettings(await smarthome.settings.get(actor.user.id, params.deviceId)),
  });

  api.route({
    method: 'patch',
    path: '/api/smarthome/devices/:deviceId',
    summary: "Change a device's Google settings (challenge, PIN, default names, hardware info)",
    description: 'The PIN is stored hashed and never returned or sent to Google. Changing names or hardware info asks Google to sync.',
    tags: ['smarthome'],
    auth: { scope: 'devices' },
    params: deviceIdParamsSchema,
    body: settingsInputSchema,
    response: smartHomeSettingsSchema,
    errors: { 403: 'PIN or challenge changed with a token (code session_required)', 404: 'Not your device' },
    handler: async (_ctx, { actor, params, body }) => {
      // The PIN guards locks and doors: a `devices` token is what a hub or device firmware holds, so only the
      // owner in a browser session may change or clear it (or switch the challenge off).
      if ((body.pin !== undefined || body.challenge !== undefined) && actor.via !== 'session') {
        throw new ForbiddenError('Changing the PIN or the challenge needs a browser session', 'session_required');
      }
      return presentSmartHomeSettings(await smarthome.settings.update(actor.user.id, params.deviceId, body));
    },
  });
}
