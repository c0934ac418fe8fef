/** The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with. */
import { createDocument, type ZodOpenApiPathsObject } from 'zod-openapi';
import type { Config } from '../config.ts';

export function buildOpenApi(config: Pick<Config, 'http'>, paths: ZodOpenApiPathsObject) {
  const base = config.http.publicUrl;
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'MessageBridge API',
      version: '1.0.0',
      description:
        'REST API of MessageBridge. Authenticate with an OAuth 2.0 bearer token from `/o/token/` (scopes per operation) or, from a browser, with the session cookie set by `/auth/login` (state-changing calls then need an allowed `Origin` and the `X-Requested-With` header). Errors are `{ "error": { "code", "message", "details" } }`.',
    },
    servers: [{ url: base }],
    components: {
      securitySchemes: {
        oauth2: {
          type: 'oauth2',
          flows: {
            authorizationCode: {
              authorizationUrl: `${base}/o/authorize/`,
              tokenUrl: `${base}/o/token/`,
              refreshUrl: `${base}/o/token/`,
              scopes: {
                'read:messages': 'Read conversations and messages',
                'send:messages': 'Send, edit and delete your own messages',
                'manage:conversations': 'Create conversations and change their members',
                devices: 'Manage your devices and poll their command messages',
                smarthome: 'Google Smart Home fulfillment',
              },
            },
          },
        },
        session: { type: 'apiKey', in: 'cookie', name: 'sid' },
      },
    },
    paths,
  });
}
