/**
 * Builds the Koa application from an AppContext: middleware in order, then every feature's routes.
 * Does not listen; `server.ts` owns the HTTP server.
 */
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import helmet from 'koa-helmet';
import type { AppContext } from './app-context.ts';
import { createSessionMiddleware } from './auth/session.ts';
import { registerAdminRoutes } from './http/admin/admin.ts';
import { Api } from './http/api.ts';
import './http/context.ts';
import { authenticate } from './http/middleware/auth.ts';
import { errorHandler } from './http/middleware/error-handler.ts';
import { requestContext } from './http/middleware/request-context.ts';
import { buildOpenApi } from './http/openapi.ts';
import { registerAuthRoutes } from './http/routes/auth.routes.ts';
import { registerSsoRoutes, ssoSignInExtras, ssoSignOutOffer } from './http/routes/sso.routes.ts';
import { pollErrorEnvelope, registerDeviceRoutes } from './http/routes/devices.routes.ts';
import { registerOAuthRoutes } from './http/routes/oauth.routes.ts';
import { registerMessagingRoutes } from './http/routes/messaging.routes.ts';
import { registerUserRoutes } from './http/routes/users.routes.ts';
import { registerSmartHomeRoutes } from './http/routes/smarthome.routes.ts';
import { registerSyncRoutes } from './http/routes/sync.routes.ts';
import { registerSystemRoutes } from './http/routes/system.routes.ts';
import { AppError, NotFoundError } from './errors.ts';

export interface BuiltApp {
  koa: Koa;
  api: Api;
}

export function createApp(app: AppContext): BuiltApp {
  const { config } = app;
  const koa = new Koa({ proxy: config.http.trustProxy, maxIpsCount: 1 });
  koa.keys = [...config.session.keys];
  // Errors are rendered by errorHandler; anything reaching Koa's default handler was already logged.
  koa.silent = true;

  koa.use(requestContext(app.logger));
  koa.use(errorHandler(app.logger));
  koa.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'frame-ancestors': ["'none'"],
          // OAuth consent forms end in a redirect to the client; form-action would block it.
          'form-action': null,
          'upgrade-insecure-requests': config.http.secure ? [] : null,
        },
      },
      strictTransportSecurity: config.http.secure ? { maxAge: 31536000, includeSubDomains: true } : false,
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  // The authorization server comes before the session and the body parser: token traffic never touches
  // the session store, and the provider parses its own bodies.
  koa.use(app.oauthServer.middleware);
  koa.use(createSessionMiddleware(koa, config, app.sessions));
  koa.use(pollErrorEnvelope());
  koa.use(
    bodyParser({
      enableTypes: ['json', 'form'],
      jsonLimit: config.http.bodyLimit,
      formLimit: config.http.bodyLimit,
      encoding: 'utf-8',
      jsonStrict: true,
    }),
  );
  koa.use(authenticate({ users: app.services.users, bearer: { verify: (t) => app.bearer.verify(t) }, allowedOrigins: config.http.allowedOrigins }));

  const api = new Api(config.http.allowedOrigins);
  let openapi: unknown;
  registerSystemRoutes(api, app, () => (openapi ??= buildOpenApi(config, api.paths)));
  const signInExtras = ssoSignInExtras(app.sso);
  registerAuthRoutes(api, app, signInExtras, ssoSignOutOffer(app.sso));
  registerSsoRoutes(api, app, signInExtras);
  registerDeviceRoutes(api, app);
  registerOAuthRoutes(api, app);
  registerUserRoutes(api, app);
  registerMessagingRoutes(api, app);
  registerSmartHomeRoutes(api, app);
  registerAdminRoutes(api, app);
  registerSyncRoutes(api, app);

  // Wraps the router so it sees allowedMethods' 405 (set on the way back) instead of turning it into a 404.
  koa.use(async (ctx, next) => {
    await next();
    if (ctx.body !== undefined) return;
    if (ctx.status === 404) throw new NotFoundError('Route', 'route_not_found');
    if (ctx.status === 405) throw new AppError(405, 'method_not_allowed', `Method ${ctx.method} not allowed`);
  });
  koa.use(api.router.routes());
  koa.use(api.router.allowedMethods({ throw: false }));
  return { koa, api };
}
