/** OAuth clients, grants and scopes as the domain sees them. */

/** The API scopes a client may be allowed. */
export const OAUTH_SCOPES = ['read:messages', 'send:messages', 'manage:conversations', 'devices', 'smarthome'] as const;
export type OAuthScope = (typeof OAUTH_SCOPES)[number];

/** What each scope lets a client do, in words (consent page, docs). */
export const SCOPE_DESCRIPTIONS: Record<OAuthScope, string> = {
  'read:messages': 'Read your conversations and messages',
  'send:messages': 'Send messages as you',
  'manage:conversations': 'Create, rename and leave conversations, and manage their participants',
  devices: 'Register devices and act for them (polling, webhooks)',
  smarthome: 'Control MessageBridge from Google Home (smart home)',
};

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** Grant types a client may be registered for. */
export const OAUTH_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT] as const;
export type OAuthGrantType = (typeof OAUTH_GRANT_TYPES)[number];

/** How a client authenticates at the token endpoint; `none` is a public client (PKCE, no secret). */
export const OAUTH_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export type OAuthAuthMethod = (typeof OAUTH_AUTH_METHODS)[number];

export interface OAuthClient {
  clientId: string;
  name: string;
  /** The user client-credentials tokens act as (the device hub's owner). */
  ownerUserId: string | null;
  /** False for public clients (no secret; PKCE required). */
  confidential: boolean;
  tokenEndpointAuthMethod: OAuthAuthMethod;
  redirectUris: string[];
  grantTypes: OAuthGrantType[];
  /** Scopes the client may ask for. */
  scopes: OAuthScope[];
  /** Scopes granted when a request names none (closed by default: empty). */
  defaultScopes: OAuthScope[];
  /** Confidential clients only: PKCE S256 required (always true in effect for public clients). */
  requirePkce: boolean;
  /** First-party client: the consent page is not shown. */
  skipConsent: boolean;
  /** Seconds; null = server default. */
  accessTokenTtl: number | null;
  refreshTokenTtl: number | null;
  secretRotatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A client together with its secret, returned exactly once (creation, rotation). */
export interface OAuthClientWithSecret {
  client: OAuthClient;
  /** null for public clients. */
  clientSecret: string | null;
}

/** A user's authorization of a client. */
export interface OAuthGrant {
  grantId: string;
  clientId: string;
  clientName: string | null;
  userId: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
}
