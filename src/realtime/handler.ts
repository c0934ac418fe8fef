/**
 * The one place socket events are validated and errors are turned into acks. A handler is a few lines:
 * `defineHandler(ctx, { scope, schema }, (socket, input) => service(...))`; the wrapper checks the scope,
 * the payload size and shape (zod), runs the limiter, and answers `{ data }` or `{ error }`. Unknown
 * errors are logged and answered with `internal_error`; nothing a client sends can crash the process or
 * reach a room.
 */
import type { z } from 'zod';
import { hasScope } from '../domain/users/user.types.ts';
import { AppError, InsufficientScopeError, InternalError, PayloadTooLargeError, ValidationError, zodIssuesToFields } from '../errors.ts';
import type { Limiter } from '../infra/rate-limit.ts';
import type { Logger } from '../logger.ts';
import type { Ack, AckFn, RealtimeSocket } from './events.ts';

export interface HandlerDeps {
  logger: Logger;
  /** Largest accepted payload (bytes of its JSON form). */
  maxPayloadBytes: number;
}

export interface HandlerSpec<S extends z.ZodType> {
  /** Event name, for logs. */
  event: string;
  /** OAuth scope a bearer-token socket needs (sessions have every scope). */
  scope?: string;
  schema: S;
  /** Spent once per call, keyed by `limitKey` (default: the user id). */
  limiter?: Limiter;
  limitKey?: (socket: RealtimeSocket) => string;
}

/** Map anything thrown to the error half of an ack. */
export function toAckError(err: unknown, logger: Logger, context: Record<string, unknown>): Ack<never> {
  if (err instanceof AppError) return { error: err.toJSON() };
  logger.error({ err, ...context }, 'socket handler failed');
  return { error: new InternalError().toJSON() };
}

function payloadSize(payload: unknown): number {
  if (payload === undefined) return 0;
  try {
    return Buffer.byteLength(JSON.stringify(payload));
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * Build a Socket.IO listener for `spec`. The returned function takes the raw arguments Socket.IO hands
 * over: the last one is the ack when it is a function; the first one is the payload.
 */
export function defineHandler<S extends z.ZodType, R>(
  deps: HandlerDeps,
  socket: RealtimeSocket,
  spec: HandlerSpec<S>,
  run: (input: z.output<S>) => Promise<R> | R,
): (...args: unknown[]) => void {
  const log = deps.logger;
  return (...args: unknown[]) => {
    const last = args.at(-1);
    const ack: AckFn<R> | undefined = typeof last === 'function' ? (last as AckFn<R>) : undefined;
    const payload = ack ? (args.length > 1 ? args[0] : undefined) : args[0];
    const reply = (res: Ack<R>) => {
      if (!ack) return;
      try {
        ack(res);
      } catch (err) {
        log.warn({ err, event: spec.event }, 'ack failed');
      }
    };
    void (async () => {
      const actor = socket.data.actor;
      if (spec.scope && !hasScope(actor, spec.scope)) throw new InsufficientScopeError(spec.scope);
      if (payloadSize(payload) > deps.maxPayloadBytes) throw new PayloadTooLargeError(`The payload is larger than ${deps.maxPayloadBytes} bytes`);
      const parsed = spec.schema.safeParse(payload ?? {});
      if (!parsed.success) throw new ValidationError(`Invalid ${spec.event} payload`, zodIssuesToFields(parsed.error.issues));
      if (spec.limiter) await spec.limiter.consume(spec.limitKey ? spec.limitKey(socket) : actor.user.id);
      return run(parsed.data as z.output<S>);
    })().then(
      (data) => reply({ data }),
      (err) => reply(toAckError(err, log, { event: spec.event, userId: socket.data.actor?.user.id, socketId: socket.id })),
    );
  };
}
