/**
 * Typed application errors. Domain code throws these; each transport maps them in exactly one place
 * (HTTP: `http/middleware/error-handler.ts`, sockets: the realtime handler wrapper). Anything that is not an
 * AppError is an internal error: logged, never echoed.
 */

export interface FieldIssue {
  /** Dotted path of the offending field ("participants.0"); empty for the whole input. */
  path: string;
  message: string;
  code?: string;
}

export interface ErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, details?: unknown, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  toJSON(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** 400 with field errors. */
export class ValidationError extends AppError {
  constructor(message = 'The request is not valid', fields: FieldIssue[] = []) {
    super(400, 'validation_failed', message, { fields });
  }
}

export class BadRequestError extends AppError {
  constructor(code = 'bad_request', message = 'Bad request', details?: unknown) {
    super(400, code, message, details);
  }
}

/** 401: no valid credentials. `bearerError` adds an RFC 6750 WWW-Authenticate challenge. */
export class UnauthenticatedError extends AppError {
  constructor(message = 'Authentication required', bearerError?: 'invalid_token' | 'invalid_request') {
    const challenge = bearerError ? `Bearer realm="messagebridge", error="${bearerError}"` : 'Bearer realm="messagebridge"';
    super(401, bearerError ?? 'unauthenticated', message, undefined, { 'WWW-Authenticate': challenge });
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this', code = 'forbidden', details?: unknown) {
    super(403, code, message, details);
  }
}

/** 403 for a bearer token that lacks a scope (RFC 6750 §3.1). */
export class InsufficientScopeError extends AppError {
  constructor(scope: string) {
    super(403, 'insufficient_scope', `This action needs the "${scope}" scope`, { scope }, {
      'WWW-Authenticate': `Bearer realm="messagebridge", error="insufficient_scope", scope="${scope}"`,
    });
  }
}

export class NotFoundError extends AppError {
  constructor(what = 'Resource', code = 'not_found') {
    super(404, code, `${what} not found`);
  }
}

export class ConflictError extends AppError {
  constructor(message = 'Conflict', code = 'conflict', details?: unknown) {
    super(409, code, message, details);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message = 'The request body is too large') {
    super(413, 'payload_too_large', message);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message = 'Unsupported content type') {
    super(415, 'unsupported_media_type', message);
  }
}

/** 429 with Retry-After (seconds). */
export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, message = 'Too many requests') {
    const s = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, 'rate_limited', message, { retry_after: s }, { 'Retry-After': String(s) });
  }
}

export class InternalError extends AppError {
  constructor() {
    super(500, 'internal_error', 'Something went wrong on our side');
  }
}

/** Convert zod issues into our field issue list. */
export function zodIssuesToFields(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string }>): FieldIssue[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message, ...(i.code ? { code: i.code } : {}) }));
}
