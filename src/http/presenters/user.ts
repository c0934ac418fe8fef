/** Users as the API shows them (snake_case, the seed's `user_id`). Never a password or hash. */
import { z } from 'zod';
import type { User } from '../../domain/users/user.types.ts';

export const publicUserSchema = z
  .object({
    user_id: z.uuid(),
    email: z.string(),
    phone_number: z.string().nullable(),
    first_name: z.string(),
    last_name: z.string(),
    display_name: z.string(),
    avatar_url: z.string().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'User' });

export const selfUserSchema = publicUserSchema
  .extend({
    is_active: z.boolean(),
    is_staff: z.boolean(),
    is_superuser: z.boolean(),
    last_login: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Me' });

export type PublicUser = z.infer<typeof publicUserSchema>;
export type SelfUser = z.infer<typeof selfUserSchema>;

export function presentUser(u: User): PublicUser {
  return {
    user_id: u.id,
    email: u.email,
    phone_number: u.phoneNumber,
    first_name: u.firstName,
    last_name: u.lastName,
    display_name: u.displayName,
    avatar_url: u.avatarUrl,
    created_at: u.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
  };
}

/** The signed-in user's own view: adds account state and privilege flags (read-only). */
export function presentSelf(u: User): SelfUser {
  return {
    ...presentUser(u),
    is_active: u.isActive,
    is_staff: u.isStaff,
    is_superuser: u.isSuperuser,
    last_login: u.lastLogin ? u.lastLogin.toISOString() : null,
  };
}
