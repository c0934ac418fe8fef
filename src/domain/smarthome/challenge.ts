/**
 * Secondary user verification ("two-factor") for EXECUTE: which commands need an acknowledgement or a PIN,
 * and checking the answer Google sends back. The PIN is kept server-side as an argon2id hash (never in
 * customData, which Google stores); repeated wrong PINs lock the device's challenge for a while.
 */
import { hashPassword, verifyPassword } from '../../auth/passwords.ts';
import type { ChallengeType, JsonObject } from './smarthome.types.ts';
import { COMMAND_PREFIX, TYPE_PREFIX } from './traits.ts';

/** How a device is protected. `auto`: the secure actions Google certifies (below) need a challenge. */
export type ChallengeMode = 'auto' | 'ack' | 'pin';

export interface DeviceSecurity {
  mode: ChallengeMode;
  pinHash: string | null;
  failedAttempts: number;
  lockedUntil: Date | null;
}

export const DEFAULT_SECURITY: DeviceSecurity = Object.freeze({ mode: 'auto', pinHash: null, failedAttempts: 0, lockedUntil: null });

/** Storage of per-device security settings, keyed by owner and device id. */
export interface SecurityStore {
  /** Settings of the given devices of one user; devices without a row are absent. */
  get(userId: string, deviceIds: readonly string[]): Promise<Map<string, DeviceSecurity>>;
  /**
   * Count one wrong PIN atomically; when the count reaches `maxAttempts` the device is locked until
   * `lockUntil` and the count starts again. Returns the new state.
   */
  recordFailure(userId: string, deviceId: string, maxAttempts: number, lockUntil: Date): Promise<{ locked: boolean }>;
  /** Forget failed attempts after a correct PIN. */
  reset(userId: string, deviceId: string): Promise<void>;
}

const SECURE_OPEN_CLOSE_TYPES = new Set(['DOOR', 'GARAGE', 'GATE', 'WINDOW']);

/**
 * True for the combinations Google requires a PIN challenge for to certify: unlocking a lock,
 * OpenClose on doors, garages, gates and windows, OnOff on cameras.
 */
export function isSecureAction(type: string, command: string, params: JsonObject): boolean {
  const t = type.startsWith(TYPE_PREFIX) ? type.slice(TYPE_PREFIX.length) : type;
  const c = command.startsWith(COMMAND_PREFIX) ? command.slice(COMMAND_PREFIX.length) : command;
  if (c === 'LockUnlock') return params.lock === false;
  if (c === 'OpenClose' || c === 'OpenCloseRelative') return SECURE_OPEN_CLOSE_TYPES.has(t);
  if (c === 'OnOff') return t === 'CAMERA';
  return false;
}

/** The challenge a device's commands need, or null. A PIN, once set, is always what `auto` asks for. */
export function requiredChallenge(type: string, executions: ReadonlyArray<{ command: string; params: JsonObject }>, security: DeviceSecurity): 'ack' | 'pin' | null {
  if (security.mode === 'pin') return 'pin';
  if (security.mode === 'ack') return 'ack';
  if (!executions.some((e) => isSecureAction(type, e.command, e.params))) return null;
  return security.pinHash ? 'pin' : 'ack';
}

export type ChallengeVerdict =
  | { pass: true }
  | { pass: false; type: ChallengeType }
  | { pass: false; lockedOut: true };

export interface ChallengeLimits {
  maxAttempts: number;
  lockoutMs: number;
}

/**
 * Check Google's answer to a challenge. Wrong PINs are counted; after `maxAttempts` of them the device
 * refuses PINs (`lockedOut`) until the lockout ends.
 */
export async function verifyChallenge(
  store: SecurityStore,
  userId: string,
  deviceId: string,
  needed: 'ack' | 'pin',
  security: DeviceSecurity,
  answer: { ack?: boolean; pin?: string } | undefined,
  limits: ChallengeLimits,
  now: Date,
): Promise<ChallengeVerdict> {
  if (needed === 'ack') return answer?.ack === true ? { pass: true } : { pass: false, type: 'ackNeeded' };
  if (security.lockedUntil && security.lockedUntil > now) return { pass: false, lockedOut: true };
  if (typeof answer?.pin !== 'string') return { pass: false, type: 'pinNeeded' };
  // A PIN-mode device whose owner never set a PIN cannot be unlocked by any answer.
  if (security.pinHash && (await verifyPassword(security.pinHash, answer.pin))) {
    if (security.failedAttempts > 0 || security.lockedUntil) await store.reset(userId, deviceId);
    return { pass: true };
  }
  const r = await store.recordFailure(userId, deviceId, limits.maxAttempts, new Date(now.getTime() + limits.lockoutMs));
  return r.locked ? { pass: false, lockedOut: true } : { pass: false, type: 'challengeFailedPinNeeded' };
}

/** Hash a device PIN for storage. */
export function hashPin(pin: string): Promise<string> {
  return hashPassword(pin);
}
