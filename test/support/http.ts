/**
 * A small HTTP client for tests: real requests over fetch, a cookie jar (like a browser), and the
 * same-origin headers a browser page of ours would send (switch them off to test CSRF defences).
 */

export interface RequestOptions {
  json?: unknown;
  form?: Record<string, string>;
  /** Raw body with its own content type. */
  body?: string | Buffer;
  headers?: Record<string, string>;
  bearer?: string;
  /** Send Origin: <base> (default true for cookie calls). Pass a string to send another origin. */
  origin?: boolean | string;
  /** Send X-Requested-With (default true). */
  csrfHeader?: boolean;
  /** Do not follow redirects (default: not followed). */
  followRedirects?: boolean;
  /** Do not send cookies. */
  noCookies?: boolean;
}

export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export class HttpClient {
  readonly base: string;
  /** Cookies of the base URL's host. */
  readonly cookies = new Map<string, string>();
  /** Cookies of other hosts reached through redirects (e.g. an identity provider), per host name like a browser. */
  readonly #otherHosts = new Map<string, Map<string, string>>();

  constructor(base: string) {
    this.base = base;
  }

  #jar(url: URL): Map<string, string> {
    if (url.hostname === new URL(this.base).hostname) return this.cookies;
    let jar = this.#otherHosts.get(url.hostname);
    if (!jar) this.#otherHosts.set(url.hostname, (jar = new Map()));
    return jar;
  }

  /** The Cookie header for the base host (or for `url`'s host). */
  cookieHeader(url?: string): string {
    const jar = url ? this.#jar(new URL(url, this.base)) : this.cookies;
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  #store(res: Response, url: URL): void {
    const jar = this.#jar(url);
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
  }

  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<TestResponse<T>> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let body: string | Buffer | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.form) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
      body = new URLSearchParams(opts.form).toString();
    } else if (opts.body !== undefined) body = opts.body;
    if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
    const origin = opts.origin ?? true;
    if (origin) headers.origin ??= typeof origin === 'string' ? origin : new URL(this.base).origin;
    if (opts.csrfHeader ?? true) headers['x-requested-with'] ??= 'fetch';
    let url = new URL(path, this.base).toString();
    for (let hops = 0; ; hops++) {
      const cookie = opts.noCookies ? '' : this.cookieHeader(url);
      if (cookie) headers.cookie = cookie;
      else if (opts.headers?.cookie) headers.cookie = opts.headers.cookie;
      else delete headers.cookie;
      const res = await fetch(url, { method, headers, body, redirect: 'manual' });
      this.#store(res, new URL(url));
      const location = res.headers.get('location');
      if (opts.followRedirects && location && res.status >= 300 && res.status < 400 && hops < 15) {
        url = new URL(location, url).toString();
        method = res.status === 307 || res.status === 308 ? method : 'GET';
        if (method === 'GET') body = undefined;
        continue;
      }
      const text = await res.text();
      let parsed: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed as T, text };
    }
  }

  get<T = any>(path: string, opts?: RequestOptions) {
    return this.request<T>('GET', path, opts);
  }
  post<T = any>(path: string, json?: unknown, opts: RequestOptions = {}) {
    return this.request<T>('POST', path, json === undefined ? opts : { ...opts, json });
  }
  patch<T = any>(path: string, json?: unknown, opts: RequestOptions = {}) {
    return this.request<T>('PATCH', path, json === undefined ? opts : { ...opts, json });
  }
  put<T = any>(path: string, json?: unknown, opts: RequestOptions = {}) {
    return this.request<T>('PUT', path, json === undefined ? opts : { ...opts, json });
  }
  delete<T = any>(path: string, opts?: RequestOptions) {
    return this.request<T>('DELETE', path, opts);
  }
}
