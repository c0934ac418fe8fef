/**
 * Users: creation, authentication by password, profile changes, activation. Transport-independent; the
 * CLI, REST routes and admin pages all call these functions.
 */
import type { Kysely } from 'kysely';
import { hashPassword, passwordProblem, verifyPassword } from '../../auth/passwords.ts';
import type { Database } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.ts';
import type { EventBus } from '../../infra/events.ts';
import * as repo from './user.repository.ts';
import type { NewUserInput, ProfileUpdateInput } from './user.schemas.ts';
import type { User } from './user.types.ts';

export interface UserServiceDeps {
  db: Kysely<Database>;
  events: EventBus;
}

export interface CreateUserOptions {
  isStaff?: boolean;
  isSuperuser?: boolean;
}

export function createUserService(deps: UserServiceDeps) {
  const { db, events } = deps;

  function uniqueConflict(err: unknown): never {
    if (isUniqueViolation(err, 'users_email_lower_key')) {
      throw new ConflictError('A user with this email already exists', 'email_taken', { fields: [{ path: 'email', message: 'already in use' }] });
    }
    if (isUniqueViolation(err, 'users_phone_number_key')) {
      throw new ConflictError('A user with this phone number already exists', 'phone_number_taken', {
        fields: [{ path: 'phone_number', message: 'already in use' }],
      });
    }
    throw err;
  }

  return {
    /**
     * Create a user. Throws ValidationError for a weak password, ConflictError (`email_taken`,
     * `phone_number_taken`) for duplicates. A null password makes an SSO-only account.
     */
    async create(input: NewUserInput, opts: CreateUserOptions = {}): Promise<User> {
      let passwordHash: string | null = null;
      if (input.password != null) {
        const problem = passwordProblem(input.password, input.email);
        if (problem) throw new ValidationError('The password is too weak', [{ path: 'password', message: `Password ${problem}`, code: 'weak_password' }]);
        passwordHash = await hashPassword(input.password);
      }
      try {
        const row = await repo.insertUser(db, {
          email: input.email,
          password_hash: passwordHash,
          phone_number: input.phone_number ?? null,
          first_name: input.first_name ?? '',
          last_name: input.last_name ?? '',
          display_name: input.display_name ?? ([input.first_name, input.last_name].filter(Boolean).join(' ') || input.email.split('@')[0]!),
          avatar_url: input.avatar_url ?? null,
          is_staff: opts.isStaff ?? opts.isSuperuser ?? false,
          is_superuser: opts.isSuperuser ?? false,
        });
        return repo.rowToUser(row);
      } catch (err) {
        uniqueConflict(err);
      }
    },

    /** Check email + password. Returns the active user, or null for any failure (no enumeration). */
    async authenticate(email: string, password: string): Promise<User | null> {
      const row = await repo.findUserByEmail(db, email);
      const ok = await verifyPassword(row?.password_hash, password);
      if (!row || !ok || !row.is_active) return null;
      await repo.touchLastLogin(db, row.id);
      return repo.rowToUser(row);
    },

    async findById(id: string): Promise<User | null> {
      const row = await repo.findUserById(db, id);
      return row ? repo.rowToUser(row) : null;
    },

    async findByEmail(email: string): Promise<User | null> {
      const row = await repo.findUserByEmail(db, email);
      return row ? repo.rowToUser(row) : null;
    },

    /** A page of users (staff views), newest first; `email` matches exactly, case-insensitively. */
    async list(filter: { email?: string; id?: string; offset: number; limit: number }): Promise<{ count: number; users: User[] }> {
      const { count, rows } = await repo.listUsers(db, filter);
      return { count, users: rows.map(repo.rowToUser) };
    },

    /** Record a sign-in that happened another way (SSO). */
    async recordLogin(id: string): Promise<void> {
      await repo.touchLastLogin(db, id);
    },

    /** Update the caller's own profile fields. */
    async updateProfile(userId: string, patch: ProfileUpdateInput): Promise<User> {
      try {
        const row = await repo.updateUser(db, userId, patch);
        if (!row) throw new NotFoundError('User');
        return repo.rowToUser(row);
      } catch (err) {
        if (err instanceof NotFoundError) throw err;
        uniqueConflict(err);
      }
    },

    /** Set a new password (policy-checked). */
    async setPassword(userId: string, password: string): Promise<void> {
      const row = await repo.findUserById(db, userId);
      if (!row) throw new NotFoundError('User');
      const problem = passwordProblem(password, row.email);
      if (problem) throw new ValidationError('The password is too weak', [{ path: 'password', message: `Password ${problem}`, code: 'weak_password' }]);
      await repo.updateUser(db, userId, { password_hash: await hashPassword(password) });
    },

    /**
     * Apply what an external directory (SSO claims) says about a user: names when given, and the staff and
     * superuser flags when the directory manages them (undefined leaves a flag as it is).
     */
    async syncFromDirectory(
      userId: string,
      patch: { firstName?: string; lastName?: string; displayName?: string; isStaff?: boolean; isSuperuser?: boolean },
    ): Promise<User> {
      const row = await repo.updateUser(db, userId, {
        ...(patch.firstName ? { first_name: patch.firstName } : {}),
        ...(patch.lastName ? { last_name: patch.lastName } : {}),
        ...(patch.displayName ? { display_name: patch.displayName } : {}),
        ...(patch.isStaff !== undefined ? { is_staff: patch.isStaff } : {}),
        ...(patch.isSuperuser !== undefined ? { is_superuser: patch.isSuperuser } : {}),
      });
      if (!row) throw new NotFoundError('User');
      return repo.rowToUser(row);
    },

    /**
     * Activate or deactivate. Deactivation emits `user.deactivated`, on which sessions, sockets and tokens
     * of that user end at once.
     */
    async setActive(userId: string, active: boolean): Promise<User> {
      const row = await repo.updateUser(db, userId, { is_active: active });
      if (!row) throw new NotFoundError('User');
      if (!active) await events.emit('user.deactivated', { userId });
      return repo.rowToUser(row);
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
