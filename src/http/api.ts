/**
 * Route definitions that carry their own zod schemas: one `defineRoute()` call registers the Koa handler
 * (auth, validation, status) and the OpenAPI operation, so the document can never drift from the code.
 */
import Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from 'zod-openapi';
import type { Actor } from '../domain/users/user.types.ts';
import { UnsupportedMediaTypeError, ValidationError, zodIssuesToFields } from '../errors.ts';
import { requireActor, type RequireAuthOptions } from './middleware/auth.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Schema = z.ZodType | undefined;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<B extends Schema, Q extends Schema, P extends Schema> {
  body: Out<B>;
  query: Out<Q>;
  params: Out<P>;
}

export interface RouteSpec<B extends Schema, Q extends Schema, P extends Schema, A extends AuthSpec> {
  method: Method;
  /** Koa path, declared without a trailing slash (`/api/things/:id`): callers may then add one or not. */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  /** 'none': public. 'optional': actor if any. Otherwise the request must be authenticated (scope, staff). */
  auth: A;
  body?: B;
  query?: Q;
  params?: P;
  /** Media types accepted for the body (default JSON only). */
  bodyTypes?: Array<'json' | 'form'>;
  /** Success status (default 200). */
  status?: number;
  /** Schema of the success body, for the document. */
  response?: z.ZodType;
  /** Other documented responses (status → description). */
  errors?: Record<number, string>;
  handler: (
    ctx: Koa.Context,
    input: RouteInput<B, Q, P> & { actor: A extends 'none' ? undefined : A extends 'optional' ? Actor | undefined : Actor },
  ) => Promise<unknown> | unknown;
}

export type AuthSpec = 'none' | 'optional' | RequireAuthOptions;

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new ValidationError(
      `Invalid ${where}`,
      zodIssuesToFields(r.error.issues).map((f) => ({ ...f, path: f.path ? f.path : where })),
    );
  }
  return r.data;
}

const ERROR_SCHEMA = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'validation_failed' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

/** Collects routes for one Koa router and the OpenAPI paths they produce. */
export class Api {
  readonly router = new Router({ strict: false });
  readonly paths: ZodOpenApiPathsObject = {};
  readonly #allowedOrigins: readonly string[];

  constructor(allowedOrigins: readonly string[]) {
    this.#allowedOrigins = allowedOrigins;
  }

  /** Register a route. */
  route<B extends Schema = undefined, Q extends Schema = undefined, P extends Schema = undefined, A extends AuthSpec = AuthSpec>(
    spec: RouteSpec<B, Q, P, A>,
  ): this {
    const origins = this.#allowedOrigins;
    const types = spec.bodyTypes ?? ['json'];
    const mime = types.map((t) => (t === 'json' ? 'application/json' : 'application/x-www-form-urlencoded'));
    this.router[spec.method](spec.path, async (ctx) => {
      let actor: Actor | undefined;
      if (spec.auth === 'optional') actor = ctx.state.actor;
      else if (spec.auth !== 'none') actor = requireActor(ctx, origins, spec.auth);
      let body: unknown;
      if (spec.body) {
        const hasBody = Number(ctx.get('Content-Length') || 0) > 0 || !!ctx.get('Transfer-Encoding');
        if (hasBody && !ctx.is(...types.map((t) => (t === 'json' ? 'json' : 'urlencoded')))) {
          throw new UnsupportedMediaTypeError(`Send the body as ${mime.join(' or ')}`);
        }
        body = parseOrThrow(spec.body, (ctx.request as { body?: unknown }).body ?? {}, 'body');
      }
      const query = spec.query ? parseOrThrow(spec.query, ctx.query, 'query') : undefined;
      const params = spec.params ? parseOrThrow(spec.params, ctx.params, 'path') : undefined;
      const result = await spec.handler(ctx, { body, query, params, actor } as never);
      if (result !== undefined) {
        ctx.status = spec.status ?? 200;
        ctx.body = result;
      } else if (ctx.body === undefined && ctx.status === 404) {
        ctx.status = spec.status ?? 204;
      }
    });
    this.#document(spec, mime);
    return this;
  }

  #document(spec: RouteSpec<any, any, any, any>, mime: string[]): void {
    const openapiPath = spec.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const status = String(spec.status ?? 200);
    const op: ZodOpenApiOperationObject = {
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      ...(spec.tags ? { tags: spec.tags } : {}),
      requestParams: {
        ...(spec.query ? { query: spec.query } : {}),
        ...(spec.params ? { path: spec.params } : {}),
      },
      ...(spec.body ? { requestBody: { required: true, content: Object.fromEntries(mime.map((m) => [m, { schema: spec.body }])) } } : {}),
      responses: {
        [status]: {
          description: 'Success',
          ...(spec.response ? { content: { 'application/json': { schema: spec.response } } } : {}),
        },
        ...(spec.body || spec.query || spec.params ? { 400: { description: 'Invalid input (field errors in details.fields)', content: { 'application/json': { schema: ERROR_SCHEMA } } } } : {}),
        ...(spec.auth !== 'none' && spec.auth !== 'optional'
          ? {
              401: { description: 'Not authenticated', content: { 'application/json': { schema: ERROR_SCHEMA } } },
              403: { description: 'Missing scope, not staff, or CSRF check failed', content: { 'application/json': { schema: ERROR_SCHEMA } } },
            }
          : {}),
        ...Object.fromEntries(
          Object.entries(spec.errors ?? {}).map(([code, description]) => [code, { description, content: { 'application/json': { schema: ERROR_SCHEMA } } }]),
        ),
      },
    };
    if (spec.auth !== 'none') {
      const scope = typeof spec.auth === 'object' && spec.auth.scope ? [spec.auth.scope] : [];
      op.security = [{ oauth2: scope }, { session: [] }];
    }
    this.paths[openapiPath] ??= {};
    (this.paths[openapiPath] as Record<string, unknown>)[spec.method] = op;
  }
}
