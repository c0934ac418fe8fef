/** Koa context typing for what our middleware puts on it. */
import type { Actor } from '../domain/users/user.types.ts';
import type { SessionData } from '../auth/session-store.ts';
import type { AppError } from '../errors.ts';

/** The koa-session object (its class is not exported through the package's exports map). */
export interface KoaSessionObject {
  readonly isNew: boolean;
  readonly externalKey?: string;
  readonly populated: boolean;
  maxAge: number;
  toJSON(): Record<string, unknown>;
  save(): Promise<void> | undefined;
  regenerate(): Promise<void> | undefined;
}

declare module 'koa' {
  interface DefaultState {
    /** Set by `authenticate` when the request carries valid credentials. */
    actor?: Actor;
    /** A route family with its own error envelope (set before the body parser runs). */
    renderError?: (err: AppError) => unknown;
  }
  interface DefaultContext {
    /** Per-request id (also in the X-Request-Id response header and every log line). */
    requestId: string;
    session: (SessionData & KoaSessionObject) | null;
  }
}

export {};
