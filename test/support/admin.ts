/** Helpers for admin tests: signed-in staff clients and the CSRF token of a page's forms. */
import assert from 'node:assert/strict';
import type { User } from '../../src/domain/users/user.types.ts';
import type { HttpClient, TestResponse } from './http.ts';
import type { TestServer } from './server.ts';

/** The CSRF token in the first form of an HTML page. */
export function csrfFrom(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(token, 'page has a CSRF token');
  return token;
}

export interface AdminClient {
  client: HttpClient;
  user: User;
  /** A valid form token of this client's session. */
  csrf: string;
  /** POST a form with the CSRF token (unless `_csrf` is given or `noCsrf`). */
  post(path: string, form?: Record<string, string | string[]>, opts?: { noCsrf?: boolean }): Promise<TestResponse>;
}

/** Form-encode, repeating keys for arrays (checkbox lists, multi-selects). */
export function formBody(form: Record<string, string | string[]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
}

/** Sign in a (new) user with the given flags and fetch a form token. */
export async function adminClient(srv: TestServer, opts: { staff?: boolean; superuser?: boolean; user?: User } = {}): Promise<AdminClient> {
  const user = opts.user ?? (await srv.createUser({ staff: opts.staff ?? true, superuser: opts.superuser ?? false }));
  const { client } = await srv.signedIn(user);
  // Staff and non-staff pages alike carry the sign-out form with the session's token.
  const token = csrfFrom((await client.get('/admin/')).text);
  const post = (path: string, form: Record<string, string | string[]> = {}, o: { noCsrf?: boolean } = {}) =>
    client.request('POST', path, {
      body: formBody(o.noCsrf || '_csrf' in form ? form : { _csrf: token, ...form }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  return { client, user, csrf: token, post };
}

