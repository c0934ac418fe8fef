/**
 * Users over REST (the seed's `/api/users/`): your own profile, a user looked up by exact email (to start
 * a conversation), people you share a conversation with, everyone for staff, and optional self-registration.
 * Passwords and privilege flags are never writable here and never returned.
 */
import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import { PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, isId } from '../../domain/messaging/messaging.schemas.ts';
import { emailSchema, newUserSchema, profileUpdateSchema } from '../../domain/users/user.schemas.ts';
import type { Actor, User } from '../../domain/users/user.types.ts';
import { ForbiddenError, NotFoundError } from '../../errors.ts';
import type { Api } from '../api.ts';
import { assertSameOriginRequest } from '../middleware/auth.ts';
import { pageLinks } from '../pagination.ts';
import { presentSelf, presentUser, publicUserSchema, selfUserSchema } from '../presenters/user.ts';
import { pageSchema } from '../presenters/messaging.ts';

const userView = z.union([selfUserSchema, publicUserSchema]);
const userParams = z.object({ id: z.string().max(64) });
const profileBody = profileUpdateSchema.meta({ id: 'ProfileUpdate', example: { display_name: 'Joe U.', phone_number: '+2349012345210' } });
const registerBody = newUserSchema
  .extend({ password: newUserSchema.shape.password.unwrap().unwrap() })
  .strict()
  .meta({
    id: 'Registration',
    example: { first_name: 'Joe', last_name: 'Unique', email: 'joe@example.com', password: 'a long passphrase', phone_number: '+2349012345210' },
  });

export function registerUserRoutes(api: Api, app: AppContext): void {
  const { users, conversations } = app.services;
  const base = app.config.http.publicUrl;
  const registrations = app.limiters({ name: 'register', points: 10, duration: 3600 });

  /**
   * Staff powers (the whole directory, private fields) belong to a staff member's browser session only: a
   * third-party app holding a staff member's token acts as an ordinary user.
   */
  const actsAsStaff = (actor: Actor) => actor.via === 'session' && actor.user.isStaff;

  /** What `viewer` may see of `user`: everything of themselves (and staff), the public profile otherwise. */
  function present(viewer: Actor, user: User) {
    if (viewer.user.id === user.id || actsAsStaff(viewer)) return presentSelf(user);
    // A phone number is only shown to its owner and staff.
    return { ...presentUser(user), phone_number: null };
  }

  /** The user if the viewer may see them (self, staff, or a shared conversation); NotFound otherwise. */
  async function visible(viewer: Actor, id: string): Promise<User> {
    if (!isId(id)) throw new NotFoundError('User');
    if (id === viewer.user.id) return viewer.user;
    const user = await users.findById(id);
    if (!user || (!actsAsStaff(viewer) && (!user.isActive || !(await conversations.shareConversation(viewer.user.id, id))))) throw new NotFoundError('User');
    return user;
  }

  api.route({
    method: 'get',
    path: '/api/users/',
    summary: 'Users: yourself, a user by exact email (to start a conversation), or everyone (staff)',
    tags: ['users'],
    auth: { scope: 'read:messages' },
    query: z.object({
      email: emailSchema.optional().meta({ description: 'Exact email (case-insensitive)' }),
      user_id: z.string().max(64).optional(),
      page: z.coerce.number().int().min(1).max(1_000_000).optional(),
      page_size: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).optional(),
    }),
    response: pageSchema(userView, 'UserPage'),
    handler: async (ctx, { actor, query }) => {
      const page = query.page ?? 1;
      const pageSize = query.page_size ?? PAGE_SIZE_DEFAULT;
      let count: number;
      let list: User[];
      if (query.user_id !== undefined && !isId(query.user_id)) {
        count = 0;
        list = [];
      } else if (actsAsStaff(actor)) {
        const r = await users.list({
          ...(query.email !== undefined ? { email: query.email } : {}),
          ...(query.user_id !== undefined ? { id: query.user_id } : {}),
          offset: (page - 1) * pageSize,
          limit: pageSize,
        });
        count = r.count;
        list = r.users;
      } else {
        // Everyone may look a user up by exact email; otherwise you see yourself.
        const found = query.email !== undefined ? await users.findByEmail(query.email) : actor.user;
        list = found && found.isActive && (query.user_id === undefined || query.user_id === found.id) ? [found] : [];
        count = list.length;
        if (page > 1) list = [];
      }
      return { count, ...pageLinks(ctx, base, page, pageSize, count), results: list.map((u) => present(actor, u)) };
    },
  });

  api.route({
    method: 'post',
    path: '/api/users/',
    summary: 'Create an account (when ALLOW_REGISTRATION is on, or as staff)',
    description: 'The password is stored as an argon2id hash and never returned; privilege fields cannot be set.',
    tags: ['users'],
    auth: 'optional',
    body: registerBody,
    status: 201,
    response: selfUserSchema,
    errors: { 403: 'Registration is off (`registration_disabled`)', 409: 'Email or phone number in use', 429: 'Too many registrations from this address' },
    handler: async (ctx, { actor, body }) => {
      if (actor?.via === 'session') assertSameOriginRequest(ctx, app.config.http.allowedOrigins);
      const asStaff = actor?.user.isStaff === true && actor.via === 'session';
      if (!asStaff && !app.config.features.allowRegistration) throw new ForbiddenError('Self-registration is turned off', 'registration_disabled');
      if (!asStaff) await registrations.consume(ctx.ip);
      return presentSelf(await users.create(body));
    },
  });

  api.route({
    method: 'get',
    path: '/api/users/:id/',
    summary: 'A user: yourself, someone you share a conversation with, or anyone (staff)',
    tags: ['users'],
    auth: { scope: 'read:messages' },
    params: userParams,
    response: userView,
    errors: { 404: 'No such user, or not visible to you' },
    handler: async (_ctx, { actor, params }) => present(actor, await visible(actor, params.id)),
  });

  for (const method of ['patch', 'put'] as const) {
    api.route({
      method,
      path: '/api/users/:id/',
      summary: 'Update your own profile (names, phone number, avatar); browser session only',
      description: 'Email, password and privilege fields are not accepted here (400). Bearer tokens get 403 `session_required`.',
      tags: ['users'],
      auth: {},
      params: userParams,
      body: profileBody,
      response: selfUserSchema,
      errors: { 403: 'Not your profile (`not_your_profile`) or not a browser session (`session_required`)', 404: 'No such user', 409: 'Phone number in use' },
      handler: async (_ctx, { actor, params, body }) => {
        if (actor.via !== 'session') throw new ForbiddenError('Profile changes need a browser session', 'session_required');
        const target = await visible(actor, params.id);
        if (target.id !== actor.user.id) throw new ForbiddenError('You can only change your own profile', 'not_your_profile');
        return presentSelf(await users.updateProfile(actor.user.id, body));
      },
    });
  }
}
