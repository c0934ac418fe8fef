/**
 * Admin users: list with search (email, names, phone) and active/staff filters; create; edit names, phone,
 * active and staff flags (superuser flag and password reset for superusers); deactivate with confirmation,
 * which ends the user's sessions, sockets and tokens through `users.setActive`.
 */
import type Koa from 'koa';
import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import { adminUserCreateSchema, adminUserUpdateSchema, passwordSchema, userListSchema } from '../../domain/users/user.schemas.ts';
import type { User } from '../../domain/users/user.types.ts';
import { NotFoundError, type AppError } from '../../errors.ts';
import { countConnectedSockets } from '../../realtime/presence.ts';
import { html, type SafeHtml } from '../html.ts';
import { adminActor, audit, formBody, type AdminSection } from './admin.ts';
import {
  checkboxField,
  csrfField,
  domainFieldErrors,
  field,
  filterSelect,
  flash,
  formError,
  isConfirmed,
  parseForm,
  postButton,
  renderAdmin,
  renderConfirm,
  renderList,
  seeOther,
  when,
  yesNo,
  type FieldErrors,
} from './ui.ts';

const idParam = z.uuid();

/** The user of the `:id` path parameter, or a 404 (also for ids that are not UUIDs). */
export async function userFromParam(app: AppContext, id: string | undefined): Promise<User> {
  const parsed = idParam.safeParse(id);
  const user = parsed.success ? await app.services.users.findById(parsed.data) : null;
  if (!user) throw new NotFoundError('User');
  return user;
}

/** Names of the changed fields between two users (for the audit log). */
function changedFields(before: User, after: User): Record<string, { from: unknown; to: unknown }> {
  const keys = { firstName: 'first_name', lastName: 'last_name', displayName: 'display_name', phoneNumber: 'phone_number', isActive: 'is_active', isStaff: 'is_staff', isSuperuser: 'is_superuser' } as const;
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const [k, name] of Object.entries(keys) as Array<[keyof typeof keys, string]>) if (before[k] !== after[k]) out[name] = { from: before[k], to: after[k] };
  return out;
}

function editForm(ctx: Koa.Context, user: User, values: Record<string, unknown>, errors?: FieldErrors): SafeHtml {
  const me = adminActor(ctx).user;
  const v = (k: string) => (values[k] === undefined || values[k] === null ? '' : String(values[k]));
  const b = (k: string) => values[k] === true || values[k] === 'true';
  return html`<form method="post" action="/admin/users/${user.id}/" class="card" novalidate>
${csrfField(ctx)}
<h2>Account</h2>
${formError(errors)}
<p><strong>Email:</strong> ${user.email}</p>
${field({ name: 'first_name', label: 'First name', value: v('first_name'), errors })}
${field({ name: 'last_name', label: 'Last name', value: v('last_name'), errors })}
${field({ name: 'display_name', label: 'Display name', value: v('display_name'), errors, help: 'Empty: first and last name.' })}
${field({ name: 'phone_number', label: 'Phone number', value: v('phone_number'), errors, help: 'International format, e.g. +14155550100. Empty for none.' })}
${checkboxField({ name: 'is_active', label: 'Active (may sign in)', checked: b('is_active'), errors, help: 'Unticking ends every session, socket and token of this user at once.' })}
${checkboxField({ name: 'is_staff', label: 'Staff (may use this admin)', checked: b('is_staff'), errors })}
${me.isSuperuser ? checkboxField({ name: 'is_superuser', label: 'Superuser (every permission, OAuth clients, password resets)', checked: b('is_superuser'), errors }) : html`<p class="muted">Superuser: ${yesNo(user.isSuperuser)} (only superusers change this)</p>`}
<div class="actions"><button type="submit">Save</button></div>
</form>`;
}

function userValues(u: User): Record<string, unknown> {
  return {
    first_name: u.firstName,
    last_name: u.lastName,
    display_name: u.displayName,
    phone_number: u.phoneNumber,
    is_active: u.isActive,
    is_staff: u.isStaff,
    is_superuser: u.isSuperuser,
  };
}

function passwordForm(ctx: Koa.Context, user: User, errors?: FieldErrors): SafeHtml {
  return html`<form method="post" action="/admin/users/${user.id}/password/" class="card" novalidate>
${csrfField(ctx)}
<h2>Reset password</h2>
<p class="muted">Sets a new password and ends every session of this user.</p>
${field({ name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', errors })}
<div class="actions"><button type="submit" class="secondary">Set password</button></div>
</form>`;
}

async function renderUserPage(
  ctx: Koa.Context,
  app: AppContext,
  sections: () => AdminSection[],
  user: User,
  opts: { values?: Record<string, unknown>; errors?: FieldErrors; passwordErrors?: FieldErrors; status?: number } = {},
): Promise<void> {
  const me = adminActor(ctx).user;
  const online = (await app.presence.online([user.id])).has(user.id);
  const panels = (await Promise.all(sections().map((s) => s.userPanels?.(ctx, app, user.id) ?? null))).filter((p): p is SafeHtml => !!p);
  renderAdmin(ctx, {
    title: user.email,
    active: 'users',
    status: opts.status ?? 200,
    body: html`<p><a href="/admin/users/">← Users</a></p>
<h1>${user.displayName || user.email}</h1>
<p class="muted">${online ? html`<span class="badge ok" data-presence="online">connected now</span>` : html`<span class="badge" data-presence="offline">not connected</span>`} · joined ${when(user.createdAt)} · last sign-in ${user.lastLogin ? when(user.lastLogin) : 'never'} · id <code>${user.id}</code></p>
<div class="actions">
${user.isActive && user.id !== me.id ? html`<a class="button danger" href="/admin/users/${user.id}/deactivate/">Deactivate…</a>` : ''}
${!user.isActive ? postButton(ctx, `/admin/users/${user.id}/activate/`, 'Activate') : ''}
<a class="button secondary" href="/admin/audit/?target_type=user&amp;target_id=${user.id}">History</a>
</div>
${editForm(ctx, user, opts.values ?? userValues(user), opts.errors)}
${me.isSuperuser ? passwordForm(ctx, user, opts.passwordErrors) : ''}
${panels}`,
  });
}

function createForm(ctx: Koa.Context, values: Record<string, unknown>, errors?: FieldErrors): SafeHtml {
  const me = adminActor(ctx).user;
  const v = (k: string) => (values[k] === undefined || values[k] === null ? '' : String(values[k]));
  return html`<form method="post" action="/admin/users/new/" class="card" novalidate>
${csrfField(ctx)}
${formError(errors)}
${field({ name: 'email', label: 'Email', type: 'email', value: v('email'), errors, required: true })}
${field({ name: 'first_name', label: 'First name', value: v('first_name'), errors })}
${field({ name: 'last_name', label: 'Last name', value: v('last_name'), errors })}
${field({ name: 'phone_number', label: 'Phone number', value: v('phone_number'), errors, help: 'Optional, international format.' })}
${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', errors, help: 'Optional: leave empty for an account that signs in with SSO only.' })}
${checkboxField({ name: 'is_staff', label: 'Staff (may use this admin)', checked: values.is_staff === true || values.is_staff === 'true', errors })}
${me.isSuperuser ? checkboxField({ name: 'is_superuser', label: 'Superuser', checked: values.is_superuser === true || values.is_superuser === 'true', errors }) : ''}
<div class="actions"><button type="submit">Create user</button><a class="button secondary" href="/admin/users/">Cancel</a></div>
</form>`;
}

/** The users section; `sections` gives the user-page panels of other sections. */
export function registerUserPages(sections: () => AdminSection[] = () => []): AdminSection {
  return {
    nav: { id: 'users', label: 'Users', href: '/admin/users/' },
    async stats(app) {
      const [users, sockets] = await Promise.all([app.services.users.count(), countConnectedSockets(app)]);
      return [
        { id: 'users', label: 'Users', value: users, href: '/admin/users/' },
        { id: 'sockets', label: 'Connected sockets (all nodes)', value: sockets },
      ];
    },
    register(router, app) {
      router.get('/users/', async (ctx) => {
        const q = userListSchema.parse(ctx.query);
        const { users, hasMore } = await app.services.users.search(q);
        renderAdmin(ctx, {
          title: 'Users',
          active: 'users',
          body: html`<div class="page-head"><h1>Users</h1><a class="button" href="/admin/users/new/">Add user</a></div>
${renderList<User>(ctx, {
  path: '/admin/users/',
  query: q,
  rows: users,
  hasMore,
  searchLabel: 'Search email, name or phone',
  filters: html`${filterSelect('active', 'Active', q.active, [['', 'any'], ['yes', 'yes'], ['no', 'no']])}${filterSelect('staff', 'Staff', q.staff, [['', 'any'], ['yes', 'yes'], ['no', 'no']])}`,
  columns: [
    { label: 'Email', sort: 'email', cell: (u) => html`<a href="/admin/users/${u.id}/">${u.email}</a>` },
    { label: 'Name', cell: (u) => u.displayName },
    { label: 'Phone', cell: (u) => u.phoneNumber ?? '' },
    { label: 'Active', cell: (u) => yesNo(u.isActive) },
    { label: 'Staff', cell: (u) => yesNo(u.isStaff) },
    { label: 'Superuser', cell: (u) => yesNo(u.isSuperuser) },
    { label: 'Last sign-in', sort: 'last_login', cell: (u) => when(u.lastLogin) },
    { label: 'Joined', sort: 'created', cell: (u) => when(u.createdAt) },
  ],
  empty: 'No users match.',
})}`,
        });
      });

      router.get('/users/new/', (ctx) => {
        renderAdmin(ctx, { title: 'Add user', active: 'users', body: html`<p><a href="/admin/users/">← Users</a></p><h1>Add user</h1>${createForm(ctx, {})}` });
      });

      router.post('/users/new/', async (ctx) => {
        const body = formBody(ctx);
        const show = (errors: FieldErrors) =>
          renderAdmin(ctx, { title: 'Add user', active: 'users', status: 400, body: html`<p><a href="/admin/users/">← Users</a></p><h1>Add user</h1>${createForm(ctx, body, errors)}` });
        const parsed = parseForm(adminUserCreateSchema, body);
        if (!parsed.ok) return show(parsed.errors);
        let user: User;
        try {
          user = await app.services.users.createByStaff(adminActor(ctx).user, parsed.data);
        } catch (err) {
          const errors = domainFieldErrors(err);
          if (errors) return show(errors);
          throw err;
        }
        await audit(ctx, app, {
          action: 'user.create',
          targetType: 'user',
          targetId: user.id,
          summary: `created ${user.email}`,
          details: { isStaff: user.isStaff, isSuperuser: user.isSuperuser, ssoOnly: parsed.data.password === null },
        });
        flash(ctx, `User ${user.email} created.`);
        seeOther(ctx, `/admin/users/${user.id}/`);
      });

      router.get('/users/:id/', async (ctx) => {
        const user = await userFromParam(app, ctx.params.id);
        await renderUserPage(ctx, app, sections, user);
      });

      router.post('/users/:id/', async (ctx) => {
        const user = await userFromParam(app, ctx.params.id);
        const body = formBody(ctx);
        const parsed = parseForm(adminUserUpdateSchema, body);
        if (!parsed.ok) return renderUserPage(ctx, app, sections, user, { values: body, errors: parsed.errors, status: 400 });
        let result: { before: User; after: User };
        try {
          result = await app.services.users.updateByStaff(adminActor(ctx).user, user.id, parsed.data);
        } catch (err) {
          const errors = domainFieldErrors(err);
          if (errors) return renderUserPage(ctx, app, sections, user, { values: body, errors, status: (err as AppError).status });
          throw err;
        }
        const changes = changedFields(result.before, result.after);
        if (Object.keys(changes).length) {
          await audit(ctx, app, { action: 'user.update', targetType: 'user', targetId: user.id, summary: `changed ${Object.keys(changes).join(', ')} of ${user.email}`, details: changes });
        }
        flash(ctx, Object.keys(changes).length ? 'Saved.' : 'Nothing changed.');
        seeOther(ctx, `/admin/users/${user.id}/`);
      });

      router.post('/users/:id/password/', async (ctx) => {
        const user = await userFromParam(app, ctx.params.id);
        const parsed = parseForm(z.object({ password: passwordSchema }), formBody(ctx));
        if (!parsed.ok) return renderUserPage(ctx, app, sections, user, { passwordErrors: parsed.errors, status: 400 });
        try {
          await app.services.users.resetPasswordByStaff(adminActor(ctx).user, user.id, parsed.data.password);
        } catch (err) {
          const errors = domainFieldErrors(err);
          if (errors && (err as AppError).status === 400) return renderUserPage(ctx, app, sections, user, { passwordErrors: errors, status: 400 });
          throw err;
        }
        await audit(ctx, app, { action: 'user.password_reset', targetType: 'user', targetId: user.id, summary: `reset the password of ${user.email}` });
        flash(ctx, 'Password set; the user was signed out everywhere.');
        seeOther(ctx, `/admin/users/${user.id}/`);
      });

      const deactivate = async (ctx: Koa.Context) => {
        const user = await userFromParam(app, ctx.params.id);
        if (ctx.method === 'GET' || !isConfirmed(formBody(ctx))) {
          return renderConfirm(ctx, {
            title: `Deactivate ${user.email}?`,
            message: html`<p>${user.email} will be signed out everywhere at once: browser sessions end, open sockets disconnect and OAuth tokens stop working. They cannot sign in until reactivated.</p>`,
            action: `/admin/users/${user.id}/deactivate/`,
            button: 'Yes, deactivate',
            back: `/admin/users/${user.id}/`,
            active: 'users',
          });
        }
        const me = adminActor(ctx).user;
        try {
          await app.services.users.updateByStaff(me, user.id, { ...userValuesForUpdate(user), is_active: false });
        } catch (err) {
          const errors = domainFieldErrors(err);
          if (errors) {
            flash(ctx, Object.values(errors)[0]!);
            return seeOther(ctx, `/admin/users/${user.id}/`);
          }
          throw err;
        }
        await audit(ctx, app, { action: 'user.deactivate', targetType: 'user', targetId: user.id, summary: `deactivated ${user.email}` });
        flash(ctx, `${user.email} deactivated; their sessions, sockets and tokens have ended.`);
        seeOther(ctx, `/admin/users/${user.id}/`);
      };
      router.get('/users/:id/deactivate/', deactivate);
      router.post('/users/:id/deactivate/', deactivate);

      router.post('/users/:id/activate/', async (ctx) => {
        const user = await userFromParam(app, ctx.params.id);
        await app.services.users.updateByStaff(adminActor(ctx).user, user.id, { ...userValuesForUpdate(user), is_active: true });
        await audit(ctx, app, { action: 'user.activate', targetType: 'user', targetId: user.id, summary: `activated ${user.email}` });
        flash(ctx, `${user.email} activated.`);
        seeOther(ctx, `/admin/users/${user.id}/`);
      });
    },
  };
}

/** The current values of a user as an update (to change one flag and keep the rest). */
function userValuesForUpdate(u: User) {
  return {
    first_name: u.firstName,
    last_name: u.lastName,
    display_name: u.displayName,
    phone_number: u.phoneNumber,
    is_active: u.isActive,
    is_staff: u.isStaff,
    is_superuser: u.isSuperuser,
  };
}
