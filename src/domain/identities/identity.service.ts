/**
 * External identities (SSO): a person at an OpenID provider is found by (issuer, subject), never by email
 * alone, or a password-less local user is created for them. Transport-independent.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { ConflictError, ForbiddenError, ValidationError } from '../../errors.ts';
import type { EventBus } from '../../infra/events.ts';
import { createUserService, type UserService } from '../users/user.service.ts';
import type { User } from '../users/user.types.ts';
import * as repo from './identity.repository.ts';
import type { ExternalIdentity, UserIdentity } from './identity.types.ts';

export interface IdentityServiceDeps {
  db: Kysely<Database>;
  events: EventBus;
  users: UserService;
}

/** The identity service over `db`; new users are created through the users service rules. */
export function createIdentityService(deps: IdentityServiceDeps) {
  const { db, events, users } = deps;

  async function existing(identity: ExternalIdentity, row: { id: string; user_id: string }): Promise<User> {
    const user = await users.findById(row.user_id);
    if (!user || !user.isActive) throw new ForbiddenError('This account is disabled', 'account_disabled');
    const synced = await users.syncFromDirectory(user.id, {
      firstName: identity.firstName,
      lastName: identity.lastName,
      displayName: identity.displayName,
      ...(identity.isStaff !== undefined ? { isStaff: identity.isStaff } : {}),
      ...(identity.isSuperuser !== undefined ? { isSuperuser: identity.isSuperuser } : {}),
    });
    await repo.touchIdentity(db, row.id, identity.email);
    await users.recordLogin(user.id);
    return synced;
  }

  async function create(identity: ExternalIdentity): Promise<User> {
    const email = identity.email;
    if (!email) {
      throw new ValidationError('The identity provider did not send a usable email address', [{ path: 'email', message: 'missing or invalid email claim', code: 'missing_email' }]);
    }
    return db.transaction().execute(async (trx) => {
      const txUsers = createUserService({ db: trx, events });
      const user = await txUsers.create(
        { email, password: null, first_name: identity.firstName, last_name: identity.lastName, ...(identity.displayName ? { display_name: identity.displayName } : {}) },
        { isStaff: identity.isStaff ?? false, isSuperuser: identity.isSuperuser ?? false },
      );
      await repo.insertIdentity(trx, { user_id: user.id, issuer: identity.issuer, subject: identity.subject, email });
      await txUsers.recordLogin(user.id);
      return user;
    });
  }

  return {
    /**
     * The local user for a verified external identity: found by (issuer, subject) and refreshed from the
     * claims (names, and staff/superuser when managed), or created password-less on first sign-in.
     * Throws ForbiddenError `account_disabled`, ConflictError `email_taken` (a local account already uses
     * the email: it is not linked automatically), ValidationError `missing_email`.
     */
    async signIn(identity: ExternalIdentity): Promise<User> {
      const row = await repo.findIdentity(db, identity.issuer, identity.subject);
      if (row) return existing(identity, row);
      try {
        return await create(identity);
      } catch (err) {
        // A concurrent first sign-in of the same person may have created the link in the meantime.
        if (err instanceof ConflictError || isUniqueViolation(err, 'user_identities_issuer_subject_key')) {
          const again = await repo.findIdentity(db, identity.issuer, identity.subject);
          if (again) return existing(identity, again);
        }
        throw err;
      }
    },

    /** The external identities linked to a user, oldest first. */
    async listForUser(userId: string): Promise<UserIdentity[]> {
      return (await repo.listIdentitiesOfUser(db, userId)).map(repo.rowToIdentity);
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
