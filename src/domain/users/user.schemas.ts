/** zod schemas for user fields, shared by the REST routes, the CLI and the admin. */
import { z } from 'zod';
import { PASSWORD_MAX_LENGTH } from '../../auth/passwords.ts';

export const emailSchema = z
  .email({ message: 'must be a valid email address' })
  .max(254)
  .transform((e) => e.trim());

/** E.164-ish: optional +, 7 to 15 digits, no leading zero after the +. Spaces, dots and dashes are removed. */
export const phoneNumberSchema = z
  .string()
  .transform((p) => p.replace(/[\s.\-()]/g, ''))
  .pipe(z.string().regex(/^\+?[1-9]\d{6,14}$/, 'must be a phone number in international format, e.g. +14155550100'));

export const nameSchema = z.string().trim().max(150);

export const passwordSchema = z.string().min(1).max(PASSWORD_MAX_LENGTH);

export const newUserSchema = z.object({
  email: emailSchema,
  password: passwordSchema.nullable().optional(),
  phone_number: phoneNumberSchema.nullable().optional(),
  first_name: nameSchema.optional(),
  last_name: nameSchema.optional(),
  display_name: nameSchema.optional(),
  avatar_url: z.url({ protocol: /^https?$/ }).max(2048).nullable().optional(),
});
export type NewUserInput = z.infer<typeof newUserSchema>;

/** Fields a user may change on their own profile (never privileges, never the password). */
export const profileUpdateSchema = newUserSchema
  .pick({ phone_number: true, first_name: true, last_name: true, display_name: true, avatar_url: true })
  .strict();
export type ProfileUpdateInput = z.infer<typeof profileUpdateSchema>;

const formBool = z.union([z.boolean(), z.enum(['true', 'false', 'on', '1', '0', '']).transform((v) => v === 'true' || v === 'on' || v === '1')]);
/** Empty form field → null, otherwise a phone number. */
const optionalPhone = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? null : v), phoneNumberSchema.nullable());

/** What staff may change on any account (privileges included; the service enforces who may change what). */
export const adminUserUpdateSchema = z.object({
  first_name: nameSchema.default(''),
  last_name: nameSchema.default(''),
  display_name: nameSchema.default(''),
  phone_number: optionalPhone.default(null),
  is_active: formBool.default(false),
  is_staff: formBool.default(false),
  is_superuser: formBool.optional(),
});
export type AdminUserUpdateInput = z.infer<typeof adminUserUpdateSchema>;

/** An account created by staff; the password may be left empty (SSO-only account). */
export const adminUserCreateSchema = z.object({
  email: emailSchema,
  password: z.preprocess((v) => (v === '' ? null : v), passwordSchema.nullable()).default(null),
  first_name: nameSchema.default(''),
  last_name: nameSchema.default(''),
  phone_number: optionalPhone.default(null),
  is_staff: formBool.default(false),
  is_superuser: formBool.default(false),
});
export type AdminUserCreateInput = z.infer<typeof adminUserCreateSchema>;

export const USER_SORTS = ['email', '-email', 'created', '-created', 'last_login', '-last_login'] as const;

/** Filters of the staff user list. Unknown sort/page values fall back to the defaults. */
export const userListSchema = z.object({
  q: z.string().trim().max(200).default(''),
  active: z.enum(['', 'yes', 'no']).catch('').default(''),
  staff: z.enum(['', 'yes', 'no']).catch('').default(''),
  sort: z.enum(USER_SORTS).catch('-created').default('-created'),
  page: z.coerce.number().int().min(1).max(200).catch(1).default(1),
});
export type UserListInput = z.infer<typeof userListSchema>;
