/**
 * The one place HTTP errors are rendered: AppError → its status and `{ error: { code, message, details } }`;
 * client errors raised by Koa or the body parser (bad JSON, too large, wrong type) → the matching 4xx;
 * anything else → 500 `internal_error`, logged with the request id and never echoed.
 */
import type Koa from 'koa';
import { AppError, InternalError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  message?: string;
}

/** Map errors raised by Koa/the body parser to our codes. */
function fromHttpError(err: HttpLikeError): AppError | null {
  const status = err.status ?? err.statusCode;
  if (!status || status < 400 || status >= 500) return null;
  switch (status) {
    case 400:
      // co-body raises a SyntaxError with status 400 for unparsable JSON.
      if (err instanceof SyntaxError || err.type === 'entity.parse.failed') return new AppError(400, 'invalid_json', 'The request body is not valid JSON');
      return new AppError(400, 'bad_request', err.expose && err.message ? err.message : 'Bad request');
    case 413:
      return new AppError(413, 'payload_too_large', 'The request body is too large');
    case 415:
      return new AppError(415, 'unsupported_media_type', 'Unsupported content type');
    default:
      return new AppError(status, 'http_error', err.expose && err.message ? err.message : 'Request failed');
  }
}

export function errorHandler(logger: Logger): Koa.Middleware {
  const log = logger.child({ subsystem: 'http' });
  return async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      let err: AppError;
      if (caught instanceof AppError) err = caught;
      else {
        const mapped = fromHttpError(caught as HttpLikeError);
        if (mapped) err = mapped;
        else {
          log.error({ err: caught, reqId: ctx.requestId, path: ctx.path }, 'unhandled error');
          err = new InternalError();
        }
      }
      ctx.status = err.status;
      for (const [k, v] of Object.entries(err.headers)) ctx.set(k, v);
      ctx.body = ctx.state.renderError ? ctx.state.renderError(err) : { error: err.toJSON() };
    }
  };
}
