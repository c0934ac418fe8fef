/**
 * Everything a request handler or socket handler may use, built once by the composition root
 * (`server.ts`) and passed down explicitly. No module-level singletons.
 */
import type { BearerVerifier } from './auth/bearer.ts';
import type { SessionStore } from './auth/session-store.ts';
import type { OAuthServer } from './auth/oauth/provider.ts';
import type { Config } from './config.ts';
import type { DbHandle } from './db/client.ts';
import type { SsoClient } from './auth/sso.ts';
import type { IdentityService } from './domain/identities/identity.service.ts';
import type { DeviceMessageService } from './domain/devices/device-message.service.ts';
import type { DeviceService } from './domain/devices/device.service.ts';
import type { OAuthService } from './domain/oauth/oauth.service.ts';
import type { ConversationService } from './domain/messaging/conversation.service.ts';
import type { MessageService } from './domain/messaging/message.service.ts';
import type { SmartHome } from './domain/smarthome/smarthome.ts';
import type { AuditService } from './domain/audit/audit.service.ts';
import type { ModerationService } from './domain/messaging/moderation.service.ts';
import type { DeviceStaffService } from './domain/devices/device-staff.service.ts';
import type { UserService } from './domain/users/user.service.ts';
import type { EventBus } from './infra/events.ts';
import type { PubSub } from './infra/pubsub.ts';
import type { LimiterFactory } from './infra/rate-limit.ts';
import type { RedisHandle } from './infra/redis.ts';
import type { Logger } from './logger.ts';
import type { PresenceStore } from './realtime/presence.ts';

export interface Services {
  users: UserService;
  identities: IdentityService;
  devices: DeviceService;
  deviceMessages: DeviceMessageService;
  oauth: OAuthService;
  conversations: ConversationService;
  messages: MessageService;
  smarthome: SmartHome;
  audit: AuditService;
  deviceStaff: DeviceStaffService;
  moderation: ModerationService;
}

export interface AppContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: DbHandle;
  /** null when REDIS_URL is not set (single node, in-memory equivalents). */
  readonly redis: RedisHandle | null;
  readonly events: EventBus;
  /** Cross-node wake-ups (Redis pub/sub, or in-process without Redis). */
  readonly pubsub: PubSub;
  readonly limiters: LimiterFactory;
  readonly sessions: SessionStore;
  /** Connected sockets and online users across every node. */
  readonly presence: PresenceStore;
  /** Resolves OAuth access tokens presented to our API. */
  bearer: BearerVerifier;
  /** The authorization server at /o/ (oidc-provider). */
  readonly oauthServer: OAuthServer;
  readonly services: Services;
  /** SSO through an external OpenID provider; null when not configured. */
  readonly sso: SsoClient | null;
}
