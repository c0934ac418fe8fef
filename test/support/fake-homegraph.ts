/**
 * A local stand-in for Google's OAuth token endpoint and Home Graph API. It checks the service-account
 * JWT for real (RS256 signature with the key pair it generated, issuer, audience, scope, lifetime), checks
 * the bearer token on API calls, and records every call. Answers can be scripted per path.
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { importSPKI, jwtVerify } from 'jose';
import type { ServiceAccountKey } from '../../src/infra/homegraph.ts';

export interface RecordedCall {
  path: string;
  body: any;
  authorization: string | undefined;
}

export interface FakeHomeGraph {
  url: string;
  key: ServiceAccountKey;
  /** The key as the JSON text Google's console downloads. */
  keyJson: string;
  /** Successful token grants so far. */
  tokensIssued: number;
  /** Every API call (token calls excluded), in order. */
  calls: RecordedCall[];
  /** Answer the next calls to `path` with these statuses, one each (then 200). */
  script(path: string, ...statuses: number[]): void;
  /** Forget recorded calls and scripted answers. */
  reset(): void;
  /** Resolves when `n` calls to `path` were recorded. */
  waitFor(path: string, n?: number, timeoutMs?: number): Promise<RecordedCall[]>;
  close(): Promise<void>;
}

export const REPORT_PATH = '/v1/devices:reportStateAndNotification';
export const SYNC_PATH = '/v1/devices:requestSync';

export async function startFakeHomeGraph(): Promise<FakeHomeGraph> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = await importSPKI(publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'RS256');
  const scripts = new Map<string, number[]>();
  const issued = new Set<string>();
  const waiters: Array<() => void> = [];
  let port = 0;

  const fake: FakeHomeGraph = {
    url: '',
    key: { client_email: 'messagebridge@test-project.iam.gserviceaccount.com', private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), private_key_id: 'kid-1' },
    keyJson: '',
    tokensIssued: 0,
    calls: [],
    script(path, ...statuses) {
      scripts.set(path, [...(scripts.get(path) ?? []), ...statuses]);
    },
    reset() {
      fake.calls.length = 0;
      scripts.clear();
    },
    async waitFor(path, n = 1, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = fake.calls.filter((c) => c.path === path);
        if (got.length >= n) return got;
        if (Date.now() > deadline) throw new Error(`expected ${n} call(s) to ${path}, got ${got.length}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50).unref();
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      void (async () => {
        const send = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        const path = req.url ?? '';
        if (path === '/token') {
          const form = new URLSearchParams(raw);
          if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return send(400, { error: 'unsupported_grant_type' });
          try {
            const { payload, protectedHeader } = await jwtVerify(form.get('assertion') ?? '', spki, {
              issuer: fake.key.client_email,
              audience: `http://127.0.0.1:${port}/token`,
              algorithms: ['RS256'],
            });
            if (payload.scope !== 'https://www.googleapis.com/auth/homegraph') return send(400, { error: 'invalid_scope' });
            if (protectedHeader.kid !== 'kid-1' || !payload.iat || !payload.exp || payload.exp - payload.iat > 3600) return send(400, { error: 'invalid_grant' });
          } catch {
            return send(400, { error: 'invalid_grant' });
          }
          const token = `ya29.fake-${++fake.tokensIssued}`;
          issued.add(token);
          return send(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
        }
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          return send(400, { error: { code: 400, message: 'bad json' } });
        }
        const authorization = req.headers.authorization;
        fake.calls.push({ path, body, authorization });
        for (const w of waiters.splice(0)) w();
        const token = authorization?.replace(/^Bearer /, '');
        if (!token || !issued.has(token)) return send(401, { error: { code: 401, status: 'UNAUTHENTICATED' } });
        const queue = scripts.get(path);
        const status = queue?.shift() ?? 200;
        if (status === 404) return send(404, { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } });
        if (status !== 200) return send(status, { error: { code: status, message: 'scripted failure' } });
        if (path === REPORT_PATH) return send(200, { requestId: (body as { requestId?: string }).requestId });
        if (path === SYNC_PATH) return send(200, {});
        return send(404, { error: { code: 404, message: 'no such method' } });
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.address() as AddressInfo).port;
  fake.url = `http://127.0.0.1:${port}`;
  fake.key.token_uri = `${fake.url}/token`;
  fake.keyJson = JSON.stringify({ type: 'service_account', project_id: 'test-project', ...fake.key });
  return fake;
}
