/**
 * The typed shape of the database for Kysely. One interface per table; nullable columns are `T | null`,
 * database-generated ones `Generated<T>`. Code outside repositories uses the domain types, not these rows.
 */
import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction, Updateable } from 'kysely';

/** A timestamp column: read as Date, written as Date or ISO string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamp column with a database default (optional on insert). */
export type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface UsersTable {
  id: Generated<string>;
  email: string;
  phone_number: string | null;
  first_name: Generated<string>;
  last_name: Generated<string>;
  display_name: Generated<string>;
  avatar_url: string | null;
  password_hash: string | null;
  is_active: Generated<boolean>;
  is_staff: Generated<boolean>;
  is_superuser: Generated<boolean>;
  last_login: Timestamp | null;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserRowUpdate = Updateable<UsersTable>;

/** A user's account at an external OpenID provider, keyed by (issuer, subject). */
export interface UserIdentitiesTable {
  id: Generated<string>;
  user_id: string;
  issuer: string;
  subject: string;
  email: string | null;
  created_at: GeneratedTimestamp;
  last_login_at: GeneratedTimestamp;
}

export type UserIdentityRow = Selectable<UserIdentitiesTable>;

/** JSON columns: read as parsed values, written as JSON text (pg would turn JS arrays into PG arrays). */
export type Json<T> = ColumnType<T, string, string>;
export type JsonWithDefault<T> = ColumnType<T, string | undefined, string>;

export interface DevicesTable {
  owner_id: string;
  id: string;
  type: string;
  traits: JsonWithDefault<string[]>;
  name: string;
  nicknames: JsonWithDefault<string[]>;
  room: string | null;
  attributes: JsonWithDefault<Record<string, unknown>>;
  state: JsonWithDefault<Record<string, unknown>>;
  online: Generated<boolean>;
  last_seen_at: Timestamp | null;
  will_report_state: Generated<boolean>;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export type DeviceRow = Selectable<DevicesTable>;

export interface DeviceMessagesTable {
  id: Generated<string>;
  seq: ColumnType<number, never, never>;
  owner_id: string;
  device_id: string;
  topic: string;
  text: string;
  payload: JsonWithDefault<Record<string, unknown>>;
  created_at: GeneratedTimestamp;
  read_at: Timestamp | null;
  expires_at: Timestamp;
}

export interface OAuthClientsTable {
  client_id: string;
  name: string;
  owner_user_id: string | null;
  secret_hash: string | null;
  token_endpoint_auth_method: string;
  redirect_uris: ColumnType<string[], string, string>;
  grant_types: ColumnType<string[], string, string>;
  scope: Generated<string>;
  default_scope: Generated<string>;
  require_pkce: Generated<boolean>;
  skip_consent: Generated<boolean>;
  access_token_ttl: number | null;
  refresh_token_ttl: number | null;
  secret_rotated_at: Timestamp | null;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export type OAuthClientRow = Selectable<OAuthClientsTable>;

/** oidc-provider artefacts; `id`, `uid`, `user_code` hold SHA-256 digests. */
export interface OAuthModelsTable {
  model: string;
  id: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  grant_id: string | null;
  account_id: string | null;
  client_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: Timestamp | null;
  consumed_at: Timestamp | null;
  created_at: GeneratedTimestamp;
}

export interface OAuthRefreshGraceTable {
  token_hash: string;
  client_id: string;
  successor_hash: string | null;
  successor_enc: string | null;
  expires_at: Timestamp;
}

export interface ConversationsTable {
  id: Generated<string>;
  title: string | null;
  created_by: string | null;
  direct_key: string | null;
  last_seq: Generated<number>;
  last_change_seq: Generated<number>;
  last_message_at: Timestamp | null;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export interface ConversationMembersTable {
  conversation_id: string;
  user_id: string;
  role: Generated<'owner' | 'member'>;
  joined_at: GeneratedTimestamp;
  delivered_seq: Generated<number>;
  read_seq: Generated<number>;
}

export interface MessagesTable {
  id: Generated<string>;
  conversation_id: string;
  sender_id: string | null;
  seq: number;
  change_seq: number;
  client_msg_id: string | null;
  body: string | null;
  created_at: GeneratedTimestamp;
  edited_at: Timestamp | null;
  deleted_at: Timestamp | null;
}

export type ConversationRow = Selectable<ConversationsTable>;
export type MemberRow = Selectable<ConversationMembersTable>;
export type MessageRow = Selectable<MessagesTable>;

export interface SmarthomeDevicesTable {
  owner_id: string;
  device_id: string;
  challenge: Generated<'auto' | 'ack' | 'pin'>;
  pin_hash: string | null;
  failed_attempts: Generated<number>;
  locked_until: Timestamp | null;
  default_names: ColumnType<string[], string | undefined, string>;
  device_info: ColumnType<Record<string, string> | null, string | null | undefined, string | null>;
  updated_at: GeneratedTimestamp;
}

export interface SmarthomeLinksTable {
  grant_id: string;
  user_id: string;
  linked_at: GeneratedTimestamp;
  unlinked_at: Timestamp | null;
  homegraph_missing_at: Timestamp | null;
}

export interface AuditLogTable {
  /** bigint identity; read as a JS number (int8 parsing is configured for pg and PGlite). */
  id: Generated<number>;
  at: GeneratedTimestamp;
  actor_id: string | null;
  actor_email: Generated<string>;
  action: string;
  target_type: string;
  target_id: Generated<string>;
  summary: Generated<string>;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export type AuditRow = Selectable<AuditLogTable>;

export interface Database {
  users: UsersTable;
  user_identities: UserIdentitiesTable;
  devices: DevicesTable;
  device_messages: DeviceMessagesTable;
  oauth_clients: OAuthClientsTable;
  oauth_models: OAuthModelsTable;
  oauth_refresh_grace: OAuthRefreshGraceTable;
  conversations: ConversationsTable;
  conversation_members: ConversationMembersTable;
  messages: MessagesTable;
  smarthome_devices: SmarthomeDevicesTable;
  smarthome_links: SmarthomeLinksTable;
  audit_log: AuditLogTable;
}

/** A Kysely handle or an open transaction: repositories accept either. */
export type Db = Kysely<Database> | Transaction<Database>;
