/**
 * Baseline B3: a bare `node:http` server (BENCH_HTTP=http) or a bare Koa 3 + @koa/router app
 * (BENCH_HTTP=koa) answering the routes the orchestrator sets with exactly the bytes the product returns.
 * POST bodies are read (and parsed as JSON by Koa's body parser) so the request path does comparable work.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';
import { serveRpc } from '../lib/proc.ts';

interface RouteSpec {
  method: 'GET' | 'POST';
  path: string;
  status: number;
  contentType: string;
  body: string;
}

const mode = process.env.BENCH_HTTP === 'koa' ? 'koa' : 'http';
const routes = new Map<string, { status: number; contentType: string; body: Buffer }>();
const key = (method: string, path: string) => `${method} ${path}`;

let handler: http.RequestListener;
let router: Router | null = null;
let routerMw: Koa.Middleware = (_ctx, next) => next();
if (mode === 'http') {
  handler = (req, res) => {
    const q = req.url!.indexOf('?');
    const r = routes.get(key(req.method!, q === -1 ? req.url! : req.url!.slice(0, q)));
    const send = () => {
      if (!r) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(r.status, { 'content-type': r.contentType, 'content-length': r.body.length });
      res.end(r.body);
    };
    if (req.method === 'GET' || req.method === 'HEAD') send();
    else {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (chunks.length) JSON.parse(Buffer.concat(chunks).toString('utf8'));
        send();
      });
    }
  };
} else {
  const app = new Koa();
  // Load generators end connections abruptly at the end of a run; that is not worth a stack trace.
  app.silent = true;
  router = new Router();
  app.use(bodyParser());
  app.use((ctx, next) => routerMw(ctx, next));
  handler = app.callback();
}

function setRoutes(list: RouteSpec[]): number {
  routes.clear();
  if (router) router = new Router();
  for (const r of list) {
    const entry = { status: r.status, contentType: r.contentType, body: Buffer.from(r.body) };
    routes.set(key(r.method, r.path), entry);
    if (router) {
      const fn = (ctx: Koa.Context) => {
        ctx.status = entry.status;
        ctx.type = entry.contentType;
        ctx.body = entry.body;
      };
      if (r.method === 'GET') router.get(r.path, fn);
      else router.post(r.path, fn);
    }
  }
  if (router) routerMw = router.routes() as unknown as Koa.Middleware;
  return routes.size;
}

const server = http.createServer(handler);
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
process.on('SIGTERM', () => process.exit(0));

serveRpc({ setRoutes }, { url: `http://127.0.0.1:${port}`, mode });
