/** Landing page, health probes, static assets and the API documentation (served from npm, no CDN). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppContext } from '../../app-context.ts';
import type { Api } from '../api.ts';
import { html, page } from '../html.ts';

const require = createRequire(import.meta.url);
const ASSETS_DIR = fileURLToPath(new URL('../assets/', import.meta.url));

interface Asset {
  body: Buffer;
  type: string;
}

function load(file: string, type: string): Asset {
  return { body: readFileSync(file), type };
}

export function registerSystemRoutes(api: Api, app: AppContext, getOpenApi: () => unknown): void {
  const swaggerDir = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  const assets = new Map<string, Asset>([
    ['/assets/app.css', load(path.join(ASSETS_DIR, 'app.css'), 'text/css; charset=utf-8')],
    ['/api/docs/swagger-ui.css', load(path.join(swaggerDir, 'swagger-ui.css'), 'text/css; charset=utf-8')],
    ['/api/docs/swagger-ui-bundle.js', load(path.join(swaggerDir, 'swagger-ui-bundle.js'), 'application/javascript; charset=utf-8')],
    ['/api/docs/init.js', { body: Buffer.from(`window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`), type: 'application/javascript; charset=utf-8' }],
  ]);
  for (const [p, asset] of assets) {
    api.router.get(p, (ctx) => {
      ctx.set('Cache-Control', 'public, max-age=3600');
      ctx.type = asset.type;
      ctx.body = asset.body;
    });
  }

  api.router.get('/', (ctx) => ctx.redirect('/home/'));
  api.router.get('/home', (ctx) => {
    const me = ctx.state.actor?.user;
    ctx.type = 'html';
    ctx.body = page({
      title: 'Home',
      nav: me ? html`<span>${me.email}</span>` : html`<a href="/auth/login">Sign in</a>`,
      body: html`<section class="card">
<h1>MessageBridge</h1>
<p>A realtime messaging backend: chat over Socket.IO and REST, HTTP polling for devices, Google Smart Home
fulfillment, and an OAuth 2.0 authorization server.</p>
${me ? html`<p>You are signed in as <strong>${me.email}</strong>.</p>` : html`<p><a class="button" href="/auth/login">Sign in</a></p>`}
<h2>For developers</h2>
<ul>
<li><a href="/api/docs/">REST API reference</a> (<a href="/api/openapi.json">OpenAPI document</a>)</li>
<li><a href="/.well-known/oauth-authorization-server">OAuth 2.0 authorization server metadata</a></li>
<li><a href="/healthz">Health</a> and <a href="/readyz">readiness</a> probes</li>
</ul>
</section>`,
    });
  });

  api.router.get('/api/docs', (ctx) => {
    ctx.type = 'html';
    ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>MessageBridge API</title><link rel="stylesheet" href="/api/docs/swagger-ui.css"></head><body><div id="swagger-ui"></div><script src="/api/docs/swagger-ui-bundle.js"></script><script src="/api/docs/init.js"></script></body></html>`;
  });
  api.router.get('/api/openapi.json', (ctx) => {
    ctx.body = getOpenApi();
  });

  api.router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  api.router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const check = async (fn: (() => Promise<void>) | undefined) => {
      if (!fn) return 'not_configured';
      try {
        await Promise.race([fn(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 2000).unref())]);
        return 'ok';
      } catch {
        return 'unavailable';
      }
    };
    const [database, redis] = await Promise.all([check(() => app.db.ping()), check(app.redis ? () => app.redis!.ping() : undefined)]);
    const ready = database === 'ok' && redis !== 'unavailable';
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'unavailable', checks: { database, redis } };
  });
}
