/**
 * The composition root: builds every resource from a Config, in order, and closes them in reverse.
 * `main.ts` runs it for the process; tests run it on port 0 with their own Config.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import type { AppContext } from './app-context.ts';
import { bearerCacheKey, cachedBearer, type BearerInvalidation } from './auth/bearer.ts';
import { createOAuthServer } from './auth/oauth/provider.ts';
import { createMemorySessionStore, createRedisSessionStore } from './auth/session-store.ts';
import type { Config } from './config.ts';
import { createDb } from './db/client.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createSsoClient } from './auth/sso.ts';
import { createIdentityService } from './domain/identities/identity.service.ts';
import { createDeviceMessageService } from './domain/devices/device-message.service.ts';
import { createDeviceService } from './domain/devices/device.service.ts';
import { startMessageCleanup } from './domain/devices/message-cleanup.ts';
import { createOAuthService } from './domain/oauth/oauth.service.ts';
import { createConversationService } from './domain/messaging/conversation.service.ts';
import { createMessageService } from './domain/messaging/message.service.ts';
import { createSmartHome, homegraphNotFoundHandler } from './domain/smarthome/smarthome.ts';
import { createAuditService } from './domain/audit/audit.service.ts';
import { createModerationService } from './domain/messaging/moderation.service.ts';
import { createDeviceStaffService } from './domain/devices/device-staff.service.ts';
import { createUserService } from './domain/users/user.service.ts';
import { EventBus } from './infra/events.ts';
import { homeGraphFromConfig } from './infra/homegraph.ts';
import { createPubSub } from './infra/pubsub.ts';
import { createLimiterFactory } from './infra/rate-limit.ts';
import { createRedis } from './infra/redis.ts';
import { createLogger, type Logger } from './logger.ts';
import { createPresenceStore } from './realtime/presence.ts';
import { createRealtime, type RealtimeServer } from './realtime/server.ts';

export interface RunningServer {
  readonly app: AppContext;
  readonly http: http.Server;
  /** The Socket.IO server attached to `http`. */
  readonly realtime: RealtimeServer;
  /** Base URL actually listened on (port resolved). */
  readonly url: string;
  close(): Promise<void>;
}

export interface CreateServerOptions {
  logger?: Logger;
  /** Listen (default true). */
  listen?: boolean;
}

/** Build and start everything. On failure, whatever was already opened is closed again. */
export async function createServer(config: Config, opts: CreateServerOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config);
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch((err) => logger.error({ err }, 'error while closing'));
    closers.length = 0;
  };
  try {
    const db = await createDb(config, logger);
    closers.push(() => db.close());
    if (config.db.migrateOnStart) await migrateToLatest(db.db, logger, config.db.schema);

    const redis = await createRedis(config, logger);
    if (redis) closers.push(() => redis.close());
    logger.info(
      { database: db.kind, redis: redis ? 'redis' : 'memory', schema: config.db.schema },
      `storage: ${db.kind === 'pglite' ? `embedded PGlite in ${config.db.dataDir}` : 'PostgreSQL'}; ${redis ? 'Redis' : 'in-memory (single node)'} for sessions, rate limits and broadcasts`,
    );
    if (config.session.keysGenerated && config.env !== 'test') {
      logger.warn('SESSION_KEYS is not set: a random key was generated, sessions end when the process stops');
    }

    const events = new EventBus(logger);
    const pubsub = createPubSub(redis, logger);
    closers.push(() => pubsub.close());
    const sessions = redis ? createRedisSessionStore(redis.client, redis.prefix) : createMemorySessionStore();
    closers.push(() => sessions.close());
    const users = createUserService({ db: db.db, events });
    const identities = createIdentityService({ db: db.db, events, users });
    const devices = createDeviceService({ db: db.db, events, config: config.devices });
    const deviceMessages = createDeviceMessageService({ db: db.db, events, pubsub, devices, logger, config: config.devices });
    const cleanup = startMessageCleanup(deviceMessages, config.devices.cleanupIntervalSeconds, logger);
    closers.push(() => cleanup.stop());
    const oauth = createOAuthService({ db: db.db, events });
    const limiters = createLimiterFactory(redis);
    const oauthServer = createOAuthServer({ config, logger, db: db.db, oauth, users, limiters, events });
    const messaging = { db: db.db, events, pubsub, logger };
    const conversations = createConversationService(messaging);
    const messages = createMessageService({
      ...messaging,
      sendLimiter: limiters({ name: 'send', points: config.messaging.ratePerMinute, duration: 60 }),
      batch: { maxBatch: config.messaging.batchMax, windowMs: config.messaging.batchWindowMs },
    });
    // Sends already queued commit before the database closes.
    closers.push(() => messages.drain());
    const homegraph = homeGraphFromConfig(config.smarthome.homegraph, logger, homegraphNotFoundHandler(db.db, logger));
    closers.push(() => homegraph.close());
    const smarthome = createSmartHome({
      db: db.db,
      events,
      devices,
      deviceMessages,
      homegraph,
      revokeGrant: (grantId, userId) => oauth.revokeGrant(grantId, { userId }),
      challengeLimits: { maxAttempts: config.smarthome.pinMaxAttempts, lockoutMs: config.smarthome.pinLockoutMs },
      logger,
    });
    const audit = createAuditService({ db: db.db });
    const moderation = createModerationService({ db: db.db });
    const deviceStaff = createDeviceStaffService({ db: db.db, events, pubsub, config: config.devices });

    // Successful token verifications are reused for a few seconds per node; every node forgets them as soon
    // as any node announces a revoked grant or a deactivated user.
    const bearer = cachedBearer(oauthServer.bearer, { ttlMs: config.oauth.bearerCacheMs });
    const BEARER_CHANNEL = 'bearer:invalidate';
    const offBearer = await pubsub.subscribe(BEARER_CHANNEL, (m) => bearer.invalidate(m as BearerInvalidation));
    closers.push(async () => offBearer());
    const invalidate = async (match: BearerInvalidation) => {
      bearer.invalidate(match);
      await pubsub.publish(BEARER_CHANNEL, match);
    };
    events.on('oauth.grant_revoked', ({ grantId }) => invalidate({ grantId }));
    // A single token destroyed (revocation endpoint, rotation): its value is the opaque token's jti.
    const forgetToken = (token: { jti: string }) => {
      invalidate({ tokenKey: bearerCacheKey(token.jti) }).catch((err) => logger.warn({ err }, 'bearer cache invalidation failed'));
    };
    oauthServer.provider.on('access_token.destroyed', forgetToken);
    oauthServer.provider.on('client_credentials.destroyed', forgetToken);
    events.on('user.deactivated', ({ userId }) => invalidate({ userId }));

    const app: AppContext = {
      config,
      logger,
      db,
      redis,
      events,
      pubsub,
      limiters,
      sessions,
      presence: createPresenceStore(redis, config.realtime.presenceTtlMs),
      bearer,
      oauthServer,
      services: { users, identities, devices, deviceMessages, oauth, conversations, messages, smarthome, audit, deviceStaff, moderation },
      sso: config.sso ? createSsoClient(config.sso, logger) : null,
    };
    // Deactivation ends every browser session of the user.
    const endUserSessions = async ({ userId }: { userId: string }) => {
      const ids = await sessions.destroyUserSessions(userId);
      for (const sessionId of ids) await events.emit('session.ended', { sessionId, userId });
    };
    events.on('user.deactivated', endUserSessions);
    events.on('user.password_reset', endUserSessions);
    // ...and every OAuth grant and token of the user (the bearer check also refuses inactive users).
    events.on('user.deactivated', async ({ userId }) => void (await oauth.revokeUserGrants(userId)));
    if (config.oauth.cleanupInterval > 0) {
      const sweep = setInterval(() => {
        oauth.cleanupExpired().catch((err) => logger.error({ err }, 'oauth cleanup failed'));
      }, config.oauth.cleanupInterval * 1000);
      sweep.unref();
      closers.push(async () => clearInterval(sweep));
    }

    const { koa } = createApp(app);
    const server = http.createServer(koa.callback());
    server.requestTimeout = 120_000;
    server.headersTimeout = 30_000;
    server.keepAliveTimeout = 65_000;
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 5_000).unref();
        }),
    );
    const realtime = await createRealtime(server, app, koa);
    closers.push(() => realtime.close());
    // Runs before the HTTP server closes (closers run in reverse): held device polls answer now.
    closers.push(async () => deviceMessages.close());

    let url = config.http.publicUrl;
    if (opts.listen !== false) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.http.port, config.http.host, () => resolve());
      });
      const addr = server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      url = `http://${host}:${addr.port}`;
      logger.info({ url }, 'listening');
    }
    return { app, http: server, realtime, url, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
