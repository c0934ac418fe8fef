/** Request id + one access log line per request (path without query string: queries may carry codes). */
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Logger } from '../../logger.ts';

const SAFE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestContext(logger: Logger): Koa.Middleware {
  const log = logger.child({ subsystem: 'http' });
  return async (ctx, next) => {
    const incoming = ctx.get('X-Request-Id');
    ctx.requestId = SAFE_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', ctx.requestId);
    const start = performance.now();
    try {
      await next();
    } finally {
      const ms = Math.round((performance.now() - start) * 10) / 10;
      const entry = { reqId: ctx.requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms, userId: ctx.state.actor?.user.id };
      if (ctx.status >= 500) log.error(entry, 'request failed');
      else log.info(entry, 'request');
    }
  };
}
