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
