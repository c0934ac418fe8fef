/**
 * Building blocks of the staff admin pages: the admin layout (navigation, sign-out), list pages (search
 * box, filters, sortable headers, bounded paging, bulk selection), forms with field errors next to their
 * fields, and the confirmation step for destructive actions. Everything is plain HTML forms and links.
 */
import type Koa from 'koa';
import type { z } from 'zod';
import { formCsrfToken } from '../../auth/session.ts';
import type { User } from '../../domain/users/user.types.ts';
import { AppError, type FieldIssue } from '../../errors.ts';
import { html, page, raw, type SafeHtml } from '../html.ts';

/** A navigation entry of the admin. */
export interface AdminNavItem {
  id: string;
  label: string;
  href: string;
  superuserOnly?: boolean;
}

/** Field name → message, rendered next to the field. */
export type FieldErrors = Record<string, string>;

export interface AdminPageOptions {
  title: string;
  body: SafeHtml;
  /** Navigation entry to highlight. */
  active?: string;
  status?: number;
}

/** What the page renderer needs about the request (set by the admin guard). */
export interface AdminRequestState {
  user: User;
  nav: AdminNavItem[];
}

declare module 'koa' {
  interface DefaultState {
    admin?: AdminRequestState;
  }
}

/** Hidden CSRF input for a form. */
export function csrfField(ctx: Koa.Context): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${formCsrfToken(ctx)}">`;
}

/** Queue a one-time notice for the next page (after a redirect). */
export function flash(ctx: Koa.Context, message: string): void {
  if (ctx.session) ctx.session.flash = message;
}

function takeFlash(ctx: Koa.Context): string | undefined {
  const f = ctx.session?.flash;
  if (typeof f === 'string') {
    delete (ctx.session as Record<string, unknown>).flash;
    return f;
  }
  return undefined;
}

/** Render an admin page into the response. */
export function renderAdmin(ctx: Koa.Context, opts: AdminPageOptions): void {
  const admin = ctx.state.admin;
  // Signed-in non-staff see the header too (with sign-out), not the navigation.
  const me = admin?.user ?? (ctx.state.actor?.via === 'session' ? ctx.state.actor.user : undefined);
  const notice = takeFlash(ctx);
  const nav = (admin?.nav ?? []).filter((n) => !n.superuserOnly || me?.isSuperuser);
  ctx.status = opts.status ?? 200;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = page({
    title: `${opts.title} · Admin`,
    nav: me
      ? html`<a href="/admin/">Admin</a><span class="muted-light">${me.email}</span><form method="post" action="/auth/logout">${csrfField(ctx)}<button type="submit">Sign out</button></form>`
      : undefined,
    body: html`<div class="admin">
${nav.length ? html`<nav class="admin-nav" aria-label="Admin sections">${nav.map((n) => html`<a href="${n.href}"${n.id === opts.active ? raw(' aria-current="page"') : ''}>${n.label}</a>`)}</nav>` : ''}
<div class="admin-main">
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${opts.body}
</div>
</div>`,
  });
}

/** Render an error page (403, 404, …) inside the admin layout. */
export function renderAdminError(ctx: Koa.Context, err: AppError): void {
  for (const [k, v] of Object.entries(err.headers)) ctx.set(k, v);
  renderAdmin(ctx, {
    title: err.status === 404 ? 'Not found' : err.status === 403 ? 'Forbidden' : 'Error',
    status: err.status,
    body: html`<section class="card"><h1>${err.status === 404 ? 'Not found' : err.status === 403 ? 'Forbidden' : 'Something went wrong'}</h1>
<p class="alert" role="alert" data-code="${err.code}">${err.message}</p>
<p><a href="/admin/">Back to the dashboard</a></p></section>`,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Forms

/** Field errors from a failed zod parse. */
export function zodFieldErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const i of error.issues) {
    const key = i.path.map(String).join('.') || '_form';
    out[key] ??= i.message;
  }
  return out;
}

/**
 * Field errors carried by a domain error (ValidationError/ConflictError with `details.fields`), or null
 * when the error is not about fields.
 */
export function domainFieldErrors(err: unknown): FieldErrors | null {
  if (!(err instanceof AppError) || err.status >= 500) return null;
  const fields = (err.details as { fields?: FieldIssue[] } | undefined)?.fields;
  if (!fields?.length) return err.status === 400 || err.status === 409 ? { _form: err.message } : null;
  const out: FieldErrors = {};
  for (const f of fields) out[f.path || '_form'] ??= f.message;
  return out;
}

/** Parse a form body with a schema: the data, or field errors. */
export function parseForm<S extends z.ZodType>(schema: S, body: unknown): { ok: true; data: z.output<S> } | { ok: false; errors: FieldErrors } {
  const r = schema.safeParse(body ?? {});
  return r.success ? { ok: true, data: r.data } : { ok: false, errors: zodFieldErrors(r.error) };
}

/** The form-level error (not tied to one field), when any. */
export function formError(errors: FieldErrors | undefined): SafeHtml | '' {
  const known = errors?._form;
  return known ? html`<p class="alert" role="alert">${known}</p>` : '';
}

interface FieldOptions {
  name: string;
  label: string;
  value?: string | null;
  type?: 'text' | 'email' | 'password' | 'url' | 'number' | 'search';
  errors?: FieldErrors | undefined;
  help?: string;
  required?: boolean;
  autocomplete?: string;
  placeholder?: string;
}

function fieldError(name: string, errors: FieldErrors | undefined): SafeHtml | '' {
  const msg = errors?.[name];
  return msg ? html`<p class="field-error" id="${name}-error" role="alert">${msg}</p>` : '';
}

function describedBy(name: string, errors: FieldErrors | undefined, help?: string): SafeHtml | '' {
  const ids = [errors?.[name] ? `${name}-error` : '', help ? `${name}-help` : ''].filter(Boolean).join(' ');
  return ids ? html` aria-describedby="${ids}"` : '';
}

/** A labelled input with its error right below it. */
export function field(o: FieldOptions): SafeHtml {
  const invalid = o.errors?.[o.name] ? raw(' aria-invalid="true"') : '';
  return html`<div class="field">
<label for="f-${o.name}">${o.label}</label>
<input id="f-${o.name}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value ?? ''}"${o.required ? raw(' required') : ''}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${o.placeholder ? html` placeholder="${o.placeholder}"` : ''}${invalid}${describedBy(o.name, o.errors, o.help)}>
${o.help ? html`<p class="help" id="${o.name}-help">${o.help}</p>` : ''}
${fieldError(o.name, o.errors)}
</div>`;
}

/** A labelled textarea (JSON, lists) with its error. */
export function textareaField(o: Omit<FieldOptions, 'type'> & { rows?: number }): SafeHtml {
  const invalid = o.errors?.[o.name] ? raw(' aria-invalid="true"') : '';
  return html`<div class="field">
<label for="f-${o.name}">${o.label}</label>
<textarea id="f-${o.name}" name="${o.name}" rows="${o.rows ?? 6}"${invalid}${describedBy(o.name, o.errors, o.help)}>${o.value ?? ''}</textarea>
${o.help ? html`<p class="help" id="${o.name}-help">${o.help}</p>` : ''}
${fieldError(o.name, o.errors)}
</div>`;
}

/** A checkbox (sends "true" when ticked; a hidden "false" keeps unticked boxes explicit). */
export function checkboxField(o: { name: string; label: string; checked: boolean; errors?: FieldErrors | undefined; disabled?: boolean; help?: string }): SafeHtml {
  return html`<div class="field checkbox">
<input type="hidden" name="${o.name}" value="false"${o.disabled ? raw(' disabled') : ''}>
<label><input type="checkbox" name="${o.name}" value="true"${o.checked ? raw(' checked') : ''}${o.disabled ? raw(' disabled') : ''}> ${o.label}</label>
${o.help ? html`<p class="help">${o.help}</p>` : ''}
${fieldError(o.name, o.errors)}
</div>`;
}

/** A select box; `multiple` renders a multi-select (trait pickers, grant types). */
export function selectField(o: {
  name: string;
  label: string;
  options: ReadonlyArray<{ value: string; label: string }>;
  selected: readonly string[] | string | null | undefined;
  errors?: FieldErrors | undefined;
  multiple?: boolean;
  help?: string;
  size?: number;
}): SafeHtml {
  const sel = new Set(Array.isArray(o.selected) ? o.selected : o.selected ? [o.selected as string] : []);
  const invalid = o.errors?.[o.name] ? raw(' aria-invalid="true"') : '';
  return html`<div class="field">
<label for="f-${o.name}">${o.label}</label>
<select id="f-${o.name}" name="${o.name}"${o.multiple ? html` multiple size="${o.size ?? Math.min(10, o.options.length)}"` : ''}${invalid}${describedBy(o.name, o.errors, o.help)}>
${o.options.map((opt) => html`<option value="${opt.value}"${sel.has(opt.value) ? raw(' selected') : ''}>${opt.label}</option>`)}
</select>
${o.help ? html`<p class="help" id="${o.name}-help">${o.help}</p>` : ''}
${fieldError(o.name, o.errors)}
</div>`;
}

/** A one-button POST form (non-destructive actions, or the entry to a confirmation step). */
export function postButton(ctx: Koa.Context, action: string, label: string, opts: { danger?: boolean; hidden?: Record<string, string> } = {}): SafeHtml {
  return html`<form method="post" action="${action}" class="inline">${csrfField(ctx)}${Object.entries(opts.hidden ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit"${opts.danger ? raw(' class="danger"') : ''}>${label}</button></form>`;
}

/** True when a POST carries the confirmation of a destructive action. */
export function isConfirmed(body: unknown): boolean {
  return (body as Record<string, unknown> | undefined)?.confirm === 'yes';
}

/**
 * The confirmation step of a destructive action: a page that repeats the POST with `confirm=yes` (and the
 * same hidden fields, e.g. selected ids), or goes back.
 */
export function renderConfirm(
  ctx: Koa.Context,
  o: { title: string; message: SafeHtml | string; action: string; button: string; back: string; hidden?: Record<string, string | readonly string[]>; active?: string },
): void {
  const hidden = Object.entries(o.hidden ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v : [v as string]).map((x) => html`<input type="hidden" name="${k}" value="${x}">`));
  renderAdmin(ctx, {
    title: o.title,
    ...(o.active ? { active: o.active } : {}),
    body: html`<section class="card confirm">
<h1>${o.title}</h1>
<div class="alert">${o.message}</div>
<form method="post" action="${o.action}">
${csrfField(ctx)}
<input type="hidden" name="confirm" value="yes">
${hidden}
<div class="actions"><button type="submit" class="danger">${o.button}</button><a class="button secondary" href="${o.back}">Cancel</a></div>
</form>
</section>`,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Lists

export interface Column<T> {
  label: string;
  /** Sort key (ascending; `-key` is descending) when the column sorts. */
  sort?: string;
  cell: (row: T) => SafeHtml | string | number | null;
  className?: string;
}

export interface ListOptions<T> {
  /** Path of the list page (links keep the current query). */
  path: string;
  /** Current query values (search, filters, sort, page). */
  query: Record<string, string | number>;
  columns: Column<T>[];
  rows: readonly T[];
  hasMore: boolean;
  /** Search box placeholder (the box is always shown). */
  searchLabel: string;
  /** Extra filter controls inside the search form. */
  filters?: SafeHtml;
  /** Bulk actions: checkboxes named `ids` with each row's id, and action buttons. */
  bulk?: { id: (row: T) => string; action: string; buttons: Array<{ name: string; label: string; danger?: boolean }> };
  empty?: string;
}

/** `path?query` with `changes` applied (empty values dropped). */
export function hrefWith(path: string, query: Record<string, string | number>, changes: Record<string, string | number | null>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...query, ...changes })) {
    if (v === null || v === '' || v === undefined) continue;
    if (k === 'page' && Number(v) === 1) continue;
    params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** A filter select for list pages (submits with the search form). */
export function filterSelect(name: string, label: string, value: string, options: ReadonlyArray<[string, string]>): SafeHtml {
  return html`<label class="filter">${label} <select name="${name}">${options.map(([v, l]) => html`<option value="${v}"${v === value ? raw(' selected') : ''}>${l}</option>`)}</select></label>`;
}

/** A list page body: search form with filters, the table with sortable headers, bulk actions, paging. */
export function renderList<T>(ctx: Koa.Context, o: ListOptions<T>): SafeHtml {
  const sort = String(o.query.sort ?? '');
  const page = Number(o.query.page ?? 1);
  const header = o.columns.map((c) => {
    if (!c.sort) return html`<th scope="col">${c.label}</th>`;
    const active = sort === c.sort || sort === `-${c.sort}`;
    const next = sort === c.sort ? `-${c.sort}` : c.sort;
    const arrow = active ? (sort.startsWith('-') ? ' ↓' : ' ↑') : '';
    return html`<th scope="col"${active ? html` aria-sort="${sort.startsWith('-') ? 'descending' : 'ascending'}"` : ''}><a href="${hrefWith(o.path, o.query, { sort: next, page: 1 })}">${c.label}${arrow}</a></th>`;
  });
  const table = html`<div class="table-wrap"><table>
<thead><tr>${o.bulk ? html`<th scope="col"><span class="sr-only">Select</span></th>` : ''}${header}</tr></thead>
<tbody>
${o.rows.length === 0 ? html`<tr><td colspan="${o.columns.length + (o.bulk ? 1 : 0)}" class="muted">${o.empty ?? 'Nothing found.'}</td></tr>` : ''}
${o.rows.map(
  (r) =>
    html`<tr>${o.bulk ? html`<td><input type="checkbox" name="ids" value="${o.bulk.id(r)}" aria-label="Select" form="bulk-form"></td>` : ''}${o.columns.map((c) => html`<td${c.className ? html` class="${c.className}"` : ''}>${c.cell(r)}</td>`)}</tr>`,
)}
</tbody></table></div>`;
  // The sort order survives a new search; filters are controls of the form itself.
  const hidden = o.query.sort ? [['sort', String(o.query.sort)]] : [];
  return html`<form method="get" action="${o.path}" class="searchbar" role="search">
<input type="search" name="q" value="${String(o.query.q ?? '')}" placeholder="${o.searchLabel}" aria-label="${o.searchLabel}">
${o.filters ?? ''}
${hidden.map(([k, v]) => html`<input type="hidden" name="${k}" value="${String(v)}">`)}
<button type="submit">Search</button>
</form>
${o.bulk
  ? html`<form method="post" action="${o.bulk.action}" id="bulk-form" class="bulk">${csrfField(ctx)}<span class="muted">With selected:</span>${o.bulk.buttons.map((b) => html`<button type="submit" name="bulk" value="${b.name}"${b.danger ? raw(' class="danger"') : raw(' class="secondary"')}>${b.label}</button>`)}</form>`
  : ''}
${table}
<nav class="pager" aria-label="Pages">
${page > 1 ? html`<a href="${hrefWith(o.path, o.query, { page: page - 1 })}" rel="prev">← Previous</a>` : html`<span></span>`}
<span class="muted">Page ${page}</span>
${o.hasMore ? html`<a href="${hrefWith(o.path, o.query, { page: page + 1 })}" rel="next">Next →</a>` : html`<span></span>`}
</nav>`;
}

/** A yes/no badge. */
export function yesNo(v: boolean): SafeHtml {
  return v ? html`<span class="badge ok">yes</span>` : html`<span class="badge">no</span>`;
}

/** A timestamp as UTC text (empty for null). */
export function when(d: Date | string | null | undefined): SafeHtml | string {
  if (!d) return '';
  const date = d instanceof Date ? d : new Date(d);
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/** Redirect after a successful POST (303: the browser follows with GET). */
export function seeOther(ctx: Koa.Context, url: string): void {
  ctx.redirect(url);
  ctx.status = 303;
}
