/**
 * `npm run createsuperuser`: create a staff superuser, like Django's command.
 *   Interactive:      npm run createsuperuser
 *   Non-interactive:  npm run createsuperuser -- --email admin@example.com --password '…' [--noinput]
 *                     or MB_SUPERUSER_EMAIL / MB_SUPERUSER_PASSWORD in the environment with --noinput
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { loadConfig, readEnv } from '../src/config.ts';
import { createDb } from '../src/db/client.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createUserService } from '../src/domain/users/user.service.ts';
import { emailSchema } from '../src/domain/users/user.schemas.ts';
import { AppError } from '../src/errors.ts';
import { EventBus } from '../src/infra/events.ts';
import { createLogger } from '../src/logger.ts';

const { values } = parseArgs({
  options: {
    email: { type: 'string' },
    password: { type: 'string' },
    'first-name': { type: 'string' },
    'last-name': { type: 'string' },
    noinput: { type: 'boolean', default: false },
  },
});

const env = readEnv();
let email = values.email ?? env.MB_SUPERUSER_EMAIL;
let password = values.password ?? env.MB_SUPERUSER_PASSWORD;
const interactive = !values.noinput && (!email || !password) && process.stdin.isTTY;

if (interactive) {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  email ??= (await rl.question('Email: ')).trim();
  if (!password) {
    // Hide the typed password.
    const out = process.stdout;
    const write = out.write.bind(out);
    process.stdout.write('Password: ');
    (out as { write: unknown }).write = (s: string) => (s.includes('\n') ? write(s) : true);
    password = await rl.question('');
    (out as { write: unknown }).write = write;
    process.stdout.write('\n');
  }
  rl.close();
}

if (!email || !password) {
  console.error('Error: --email and --password (or MB_SUPERUSER_EMAIL / MB_SUPERUSER_PASSWORD) are required when not interactive.');
  process.exit(2);
}
if (!emailSchema.safeParse(email).success) {
  console.error(`Error: "${email}" is not a valid email address.`);
  process.exit(2);
}

const config = loadConfig({ LOG_LEVEL: env.LOG_LEVEL ?? 'warn' });
const logger = createLogger(config);
const db = await createDb(config, logger);
let exitCode = 0;
try {
  await migrateToLatest(db.db, logger, config.db.schema);
  const users = createUserService({ db: db.db, events: new EventBus(logger) });
  const user = await users.create(
    { email, password, first_name: values['first-name'], last_name: values['last-name'] },
    { isStaff: true, isSuperuser: true },
  );
  console.log(`Superuser created: ${user.email} (${user.id})`);
} catch (err) {
  if (err instanceof AppError) {
    const fields = (err.details as { fields?: Array<{ message: string }> } | undefined)?.fields ?? [];
    console.error(`Error: ${err.message}${fields.length ? ` (${fields.map((f) => f.message).join('; ')})` : ''}`);
    exitCode = 1;
  } else throw err;
} finally {
  await db.close();
}
// Set after closing: the embedded database's runtime resets process.exitCode when it shuts down.
process.exit(exitCode);
