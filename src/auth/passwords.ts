/**
 * Password hashing with argon2id (OWASP/ASVS parameters: 19 MiB, t=2, p=1), and the password policy.
 */
import argon2 from 'argon2';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** A hash of a random password, compared against when the account does not exist (equal timing). */
let dummyHash: Promise<string> | undefined;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

/** Constant-effort verification: with no hash it still runs one argon2 verification and returns false. */
export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= argon2.hash(crypto.randomUUID(), OPTIONS);
    await argon2.verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

const TOO_COMMON = new Set(['password', 'password1', 'password123', '1234567890', 'qwertyuiop', '0123456789', 'letmein123', 'iloveyou12', 'administrator', 'changeme123']);

/** Returns the reason a password is too weak, or null when it is acceptable. */
export function passwordProblem(password: string, email?: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  if (TOO_COMMON.has(password.toLowerCase())) return 'is too common';
  if (new Set(password).size < 4) return 'is too repetitive';
  if (email && password.toLowerCase().includes(email.split('@')[0]!.toLowerCase()) && email.split('@')[0]!.length >= 4) {
    return 'must not contain the email name';
  }
  return null;
}
