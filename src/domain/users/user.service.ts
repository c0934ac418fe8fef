/**
 * Users: creation, authentication by password, profile changes, activation. Transport-independent; the
 * CLI, REST routes and admin pages all call these functions.
 */
import type { Kysely } from 'kysely';
import { hashPassword, passwordProblem, verifyPassword } from '../../auth/passwords.ts';
import type { Database, UserRow } from '../../db/database.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors.ts';
import type { EventBus } from '../../infra/events.ts';
import * as repo from './user.repository.ts';
import type { AdminUserCreateInput, AdminUserUpdateInput, NewUserInput, ProfileUpdateInput, UserListInput } from './user.schemas.ts';
import type { User } from './user.types.ts';

export interface UserServiceDeps {
  db: Kysely<Database>;
  events: EventBus;
}

/** Users per page in staff lists. */
export const USER_PAGE_SIZE = 50;

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

    /** The users among `ids` (unknown ids are absent), one query. */
    async findByIds(ids: readonly string[]): Promise<User[]> {
      return (await repo.findUsersByIds(db, [...new Set(ids)])).map(repo.rowToUser);
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

    /** One page of users for staff, filtered by free text (email, names, phone) and flags. */
    async search(input: UserListInput): Promise<{ users: User[]; hasMore: boolean }> {
      const yesNo = (v: string) => (v === 'yes' ? true : v === 'no' ? false : null);
      const rows = await repo.searchUsers(db, {
        q: input.q,
        active: yesNo(input.active),
        staff: yesNo(input.staff),
        sort: input.sort.replace('-', '') as 'email' | 'created' | 'last_login',
        desc: input.sort.startsWith('-'),
        limit: USER_PAGE_SIZE + 1,
        offset: (input.page - 1) * USER_PAGE_SIZE,
      });
      return { users: rows.slice(0, USER_PAGE_SIZE).map(repo.rowToUser), hasMore: rows.length > USER_PAGE_SIZE };
    },

    /** Number of accounts. */
    count(): Promise<number> {
      return repo.countUsers(db);
    },

    /**
     * Staff create an account. Only a superuser may create a superuser. Throws ForbiddenError for that,
     * plus everything `create` throws.
     */
    async createByStaff(actor: User, input: AdminUserCreateInput): Promise<User> {
      if (input.is_superuser && !actor.isSuperuser) throw new ForbiddenError('Only a superuser can create a superuser', 'superuser_only');
      return this.create(
        { email: input.email, password: input.password, first_name: input.first_name, last_name: input.last_name, phone_number: input.phone_number },
        { isStaff: input.is_staff || input.is_superuser, isSuperuser: input.is_superuser },
      );
    },

    /**
     * Staff edit an account: names, phone, active and staff flags; the superuser flag only by a superuser
     * (ForbiddenError `superuser_only`). Non-superusers cannot change a superuser's account at all. Nobody
     * can deactivate themselves or drop their own staff/superuser flag (ValidationError on that field).
     * Deactivation goes through `setActive`, so sessions, sockets and tokens end. Returns the user before
     * and after, for the audit log.
     */
    async updateByStaff(actor: User, userId: string, patch: AdminUserUpdateInput): Promise<{ before: User; after: User }> {
      const row = await repo.findUserById(db, userId);
      if (!row) throw new NotFoundError('User');
      const before = repo.rowToUser(row);
      if (before.isSuperuser && !actor.isSuperuser) throw new ForbiddenError('Only a superuser can change a superuser account', 'superuser_only');
      if (patch.is_superuser !== undefined && patch.is_superuser !== before.isSuperuser && !actor.isSuperuser) {
        throw new ForbiddenError('Only a superuser can grant or remove superuser status', 'superuser_only');
      }
      if (actor.id === userId) {
        const fields = [];
        if (!patch.is_active) fields.push({ path: 'is_active', message: 'You cannot deactivate your own account', code: 'self_lockout' });
        if (!patch.is_staff) fields.push({ path: 'is_staff', message: 'You cannot remove your own staff status', code: 'self_lockout' });
        if (patch.is_superuser === false && before.isSuperuser) fields.push({ path: 'is_superuser', message: 'You cannot remove your own superuser status', code: 'self_lockout' });
        if (fields.length) throw new ValidationError('You cannot lock yourself out', fields);
      }
      const isSuperuser = patch.is_superuser ?? before.isSuperuser;
      let updated: UserRow | undefined;
      try {
        updated = await repo.updateUser(db, userId, {
          first_name: patch.first_name,
          last_name: patch.last_name,
          display_name: patch.display_name || [patch.first_name, patch.last_name].filter(Boolean).join(' ') || before.email.split('@')[0]!,
          phone_number: patch.phone_number,
          // A superuser is always staff.
          is_staff: patch.is_staff || isSuperuser,
          is_superuser: isSuperuser,
        });
      } catch (err) {
        uniqueConflict(err);
      }
      if (!updated) throw new NotFoundError('User');
      let after = repo.rowToUser(updated);
      if (patch.is_active !== before.isActive) after = await this.setActive(userId, patch.is_active);
      return { before, after };
    },

    /**
     * A superuser sets another user's password (ForbiddenError `superuser_only` otherwise). Every session
     * of that user ends (`user.password_reset`).
     */
    async resetPasswordByStaff(actor: User, userId: string, password: string): Promise<void> {
      if (!actor.isSuperuser) throw new ForbiddenError('Only a superuser can reset passwords', 'superuser_only');
      await this.setPassword(userId, password);
      await events.emit('user.password_reset', { userId });
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
