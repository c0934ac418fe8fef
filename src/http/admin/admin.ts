/**
 * The staff admin under /admin/: one router whose guard runs before every page and action — anonymous
 * visitors are sent to the sign-in page, signed-in non-staff get 403, every POST must carry the form's
 * CSRF token — then the sections (dashboard, users, audit log, and those of the other features). Pages
 * are server-rendered and call the same domain services as the REST API and sockets; every change is
 * written to the audit log.
 */
import Router from '@koa/router';
import type Koa from 'koa';
import type { AppContext } from '../../app-context.ts';
import { verifyFormCsrfToken } from '../../auth/session.ts';
import type { Actor } from '../../domain/users/user.types.ts';
import { AppError, ForbiddenError, NotFoundError } from '../../errors.ts';
import type { Api } from '../api.ts';
import { html, type SafeHtml } from '../html.ts';
import { registerAuditPages } from './audit.pages.ts';
import { registerConversationPages } from './conversations.pages.ts';
import { deviceMessagesNav, registerDevicePages } from './devices.pages.ts';
import { registerOAuthPages } from './oauth.pages.ts';
import { registerDashboard, type DashboardStat } from './dashboard.pages.ts';
import { renderAdminError, type AdminNavItem } from './ui.ts';
import { registerUserPages } from './users.pages.ts';

/** One area of the admin: its navigation entry, its routes, and what it adds to the dashboard. */
export interface AdminSection {
  nav: AdminNavItem;
  /** Register routes on the admin router (paths relative to /admin). */
  register(router: Router, app: AppContext): void;
  /** Tiles for the dashboard. */
  stats?(app: AppContext): Promise<DashboardStat[]>;
  /** Extra blocks on a user's admin page (their devices, grants…). */
  userPanels?(ctx: Koa.Context, app: AppContext, userId: string): Promise<SafeHtml | null>;
}

/** Where anonymous admin visitors go: SSO when configured, else the local sign-in form. */
export const ADMIN_LOGIN_PATH = '/admin/login/';

/** The signed-in staff member of an admin request (the guard has run). */
export function adminActor(ctx: Koa.Context): Actor {
  const actor = ctx.state.actor;
  if (!actor) throw new ForbiddenError('Staff only', 'staff_only');
  return actor;
}

/** Superuser-only pages and actions call this first (403 `superuser_only` otherwise). */
export function requireSuperuser(ctx: Koa.Context): void {
  if (!ctx.state.actor?.user.isSuperuser) throw new ForbiddenError('Only superusers may do this', 'superuser_only');
}

/** The parsed form body of a POST. */
export function formBody(ctx: Koa.Context): Record<string, unknown> {
  const body = (ctx.request as { body?: unknown }).body;
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** A form value that may be repeated (checkbox lists, multi-selects) as an array of strings. */
export function formList(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' && v !== '' ? [v] : [];
}

/** Record an admin change in the audit log, attributed to the signed-in staff member. */
export async function audit(
  ctx: Koa.Context,
  app: AppContext,
  entry: { action: string; targetType: string; targetId?: string; summary?: string; details?: Record<string, unknown> },
): Promise<void> {
  const user = ctx.state.actor?.user;
  await app.services.audit.record({ actor: user ? { id: user.id, email: user.email } : null, ...entry });
}

function guard(nav: AdminNavItem[]): Koa.Middleware {
  return async (ctx, next) => {
    try {
      const actor = ctx.state.actor;
      if (!actor) {
        const back = ctx.method === 'GET' ? ctx.originalUrl : '/admin/';
        ctx.status = 303;
        ctx.redirect(`${ADMIN_LOGIN_PATH}?next=${encodeURIComponent(back)}`);
        return;
      }
      // The admin is for browsers: a bearer token never opens it.
      if (actor.via !== 'session' || !actor.user.isStaff) throw new ForbiddenError('Staff only: this account may not use the admin', 'staff_only');
      ctx.state.admin = { user: actor.user, nav };
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') verifyFormCsrfToken(ctx, formBody(ctx)._csrf);
      await next();
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      renderAdminError(ctx, err);
    }
  };
}

/** The sections of the admin, in navigation order. */
export function adminSections(): AdminSection[] {
  const sections: AdminSection[] = [];
  sections.push(registerUserPages(() => sections), registerConversationPages(), registerDevicePages(), deviceMessagesNav(), registerOAuthPages(), registerAuditPages());
  return sections;
}

/** Mount the admin under /admin/ (the sign-in page `/admin/login/` is served by the sign-in routes). */
export function registerAdminRoutes(api: Api, app: AppContext, sections: AdminSection[] = adminSections()): void {
  const dashboard = registerDashboard(sections);
  const all = [dashboard, ...sections];
  const router = new Router({ prefix: '/admin', strict: false });
  router.use(guard(all.map((s) => s.nav)));
  for (const s of all) s.register(router, app);
  router.all('/{*rest}', () => {
    throw new NotFoundError('Page', 'admin_page_not_found');
  });

  api.router.use(router.routes());
}

/** A short "who's this" line used in several pages. */
export function userLabel(u: { email: string; displayName?: string }): SafeHtml {
  return u.displayName ? html`${u.displayName} <span class="muted">&lt;${u.email}&gt;</span>` : html`${u.email}`;
}
