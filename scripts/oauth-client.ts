/**
 * `npm run oauth:client -- <command>`: manage OAuth clients of the authorization server.
 *   create --name NAME [--public] [--redirect-uri URI]… [--scope S]… [--default-scope S]… [--grant G]…
 *          [--auth-method client_secret_basic|client_secret_post] [--require-pkce] [--skip-consent]
 *          [--owner EMAIL|USER_ID] [--access-token-ttl SECONDS] [--refresh-token-ttl SECONDS] [--json]
 *   list [--json]
 *   show CLIENT_ID [--json]
 *   rotate-secret CLIENT_ID [--json]
 *   delete CLIENT_ID
 * The secret is printed once, at creation or rotation; only its digest is stored. Scopes and grants may be
 * repeated or given comma/space separated. Grants: authorization_code, refresh_token, client_credentials,
 * device_code. Exit codes: 0 ok, 1 refused (validation, not found), 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { loadConfig, readEnv } from '../src/config.ts';
import { createDb } from '../src/db/client.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createOAuthService } from '../src/domain/oauth/oauth.service.ts';
import { DEVICE_CODE_GRANT, type OAuthClient } from '../src/domain/oauth/oauth.types.ts';
import { createUserService } from '../src/domain/users/user.service.ts';
import { AppError } from '../src/errors.ts';
import { EventBus } from '../src/infra/events.ts';
import { createLogger } from '../src/logger.ts';

const USAGE = `Usage: npm run oauth:client -- <create|list|show|rotate-secret|delete> [options]
  create --name NAME [--public] [--redirect-uri URI]... [--scope SCOPE]... [--default-scope SCOPE]...
         [--grant GRANT]... [--auth-method client_secret_basic|client_secret_post] [--require-pkce]
         [--skip-consent] [--owner EMAIL|USER_ID] [--access-token-ttl SECONDS] [--refresh-token-ttl SECONDS] [--json]
  list [--json]
  show CLIENT_ID [--json]
  rotate-secret CLIENT_ID [--json]
  delete CLIENT_ID`;

function usage(message?: string): never {
  if (message) console.error(`Error: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      public: { type: 'boolean', default: false },
      'redirect-uri': { type: 'string', multiple: true },
      scope: { type: 'string', multiple: true },
      'default-scope': { type: 'string', multiple: true },
      grant: { type: 'string', multiple: true },
      'auth-method': { type: 'string' },
      'require-pkce': { type: 'boolean', default: false },
      'skip-consent': { type: 'boolean', default: false },
      owner: { type: 'string' },
      'access-token-ttl': { type: 'string' },
      'refresh-token-ttl': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (err) {
  usage((err as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [command, clientIdArg, ...rest] = positionals;
if (!command || !['create', 'list', 'show', 'rotate-secret', 'delete'].includes(command)) usage(command ? `unknown command "${command}"` : 'a command is required');
if (['show', 'rotate-secret', 'delete'].includes(command) && !clientIdArg) usage(`${command} needs a CLIENT_ID`);
if (rest.length || (clientIdArg && !['show', 'rotate-secret', 'delete'].includes(command))) usage('unexpected arguments');
if (command === 'create' && !values.name) usage('create needs --name');

const words = (list: string[] | undefined) => (list ?? []).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
const grantName = (g: string) => (g === 'device_code' ? DEVICE_CODE_GRANT : g);
const ttl = (v: string | undefined, flag: string) => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) usage(`${flag} must be a whole number of seconds`);
  return Number(v);
};

function describe(c: OAuthClient) {
  return {
    client_id: c.clientId,
    name: c.name,
    type: c.confidential ? 'confidential' : 'public',
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    redirect_uris: c.redirectUris,
    grant_types: c.grantTypes,
    scopes: c.scopes,
    default_scopes: c.defaultScopes,
    require_pkce: c.requirePkce,
    skip_consent: c.skipConsent,
    owner_user_id: c.ownerUserId,
    access_token_ttl: c.accessTokenTtl,
    refresh_token_ttl: c.refreshTokenTtl,
    created_at: c.createdAt.toISOString(),
    secret_rotated_at: c.secretRotatedAt?.toISOString() ?? null,
  };
}

function print(c: OAuthClient, secret?: string | null) {
  const d = describe(c);
  if (values.json) {
    console.log(JSON.stringify(secret === undefined ? d : { ...d, client_secret: secret }, null, 2));
    return;
  }
  console.log(`Client ${d.client_id}  ${d.name}
  type:            ${d.type} (${d.token_endpoint_auth_method})
  grants:          ${d.grant_types.join(', ')}
  scopes:          ${d.scopes.join(' ')}${d.default_scopes.length ? `  (default: ${d.default_scopes.join(' ')})` : ''}
  redirect URIs:   ${d.redirect_uris.join(' ') || '(none)'}
  PKCE required:   ${d.require_pkce ? 'yes' : 'no'}${d.owner_user_id ? `\n  owner:           ${d.owner_user_id}` : ''}`);
  if (secret) console.log(`  client_secret:   ${secret}\n\nStore the secret now: it is not shown again.`);
}

const env = readEnv();
const config = loadConfig({ LOG_LEVEL: env.LOG_LEVEL ?? 'warn' });
const logger = createLogger(config);
const db = await createDb(config, logger);
let exitCode = 0;
try {
  await migrateToLatest(db.db, logger, config.db.schema);
  const events = new EventBus(logger);
  const oauth = createOAuthService({ db: db.db, events });
  const users = createUserService({ db: db.db, events });
  switch (command) {
    case 'create': {
      let owner: string | undefined;
      if (values.owner) {
        const user = values.owner.includes('@') ? await users.findByEmail(values.owner) : await users.findById(values.owner).catch(() => null);
        if (!user) throw new AppError(400, 'validation_failed', `No user "${values.owner}"`);
        owner = user.id;
      }
      const grants = words(values.grant).map(grantName);
      const { client, clientSecret } = await oauth.createClient({
        name: values.name!,
        type: values.public ? 'public' : 'confidential',
        ...(values['auth-method'] ? { token_endpoint_auth_method: values['auth-method'] as never } : {}),
        redirect_uris: values['redirect-uri'] ?? [],
        ...(grants.length ? { grant_types: grants as never } : {}),
        scopes: words(values.scope) as never,
        default_scopes: words(values['default-scope']) as never,
        require_pkce: values['require-pkce'],
        skip_consent: values['skip-consent'],
        ...(owner ? { owner_user_id: owner } : {}),
        access_token_ttl: ttl(values['access-token-ttl'], '--access-token-ttl'),
        refresh_token_ttl: ttl(values['refresh-token-ttl'], '--refresh-token-ttl'),
      });
      print(client, clientSecret);
      break;
    }
    case 'list': {
      const list = await oauth.listClients();
      if (values.json) console.log(JSON.stringify(list.map(describe), null, 2));
      else if (!list.length) console.log('No clients.');
      else for (const c of list) console.log(`${c.clientId}  ${c.confidential ? 'confidential' : 'public      '}  ${c.name}  [${c.scopes.join(' ')}]`);
      break;
    }
    case 'show':
      print(await oauth.getClient(clientIdArg!));
      break;
    case 'rotate-secret': {
      const { client, clientSecret } = await oauth.rotateSecret(clientIdArg!);
      print(client, clientSecret);
      break;
    }
    case 'delete':
      await oauth.deleteClient(clientIdArg!);
      if (values.json) console.log(JSON.stringify({ deleted: clientIdArg }));
      else console.log(`Deleted client ${clientIdArg} and every grant and token issued to it.`);
      break;
  }
} catch (err) {
  if (err instanceof AppError) {
    const fields = (err.details as { fields?: Array<{ path: string; message: string }> } | undefined)?.fields ?? [];
    if (values.json) console.error(JSON.stringify({ error: { code: err.code, message: err.message, ...(fields.length ? { fields } : {}) } }));
    else console.error(`Error: ${err.message}${fields.length ? ` (${fields.map((f) => `${f.path}: ${f.message}`).join('; ')})` : ''}`);
    exitCode = 1;
  } else throw err;
} finally {
  await db.close();
}
// Set after closing: the embedded database's runtime resets process.exitCode when it shuts down.
process.exit(exitCode);
