/**
 * Admin devices and their command messages. Devices: list/search by owner, type and online; create and
 * edit with type and trait pickers, attributes and state as validated JSON; the Smart Home challenge and
 * PIN (set or cleared, never shown); delete. Command messages: filters by device, topic and status, the
 * seed's bulk "mark selected as unread" (re-queue) and delete. Everything goes through the device
 * services (owner-scoped rules, events) and the Smart Home settings service.
 */
import type Koa from 'koa';
import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import { bulkIdsSchema, staffDeviceListSchema, staffMessageListSchema } from '../../domain/devices/device-staff.service.ts';
import type { StaffDeviceRow, StaffMessageRow } from '../../domain/devices/device-staff.repository.ts';
import { deviceIdSchema, newDeviceSchema, deviceUpdateSchema } from '../../domain/devices/device.schemas.ts';
import type { Device } from '../../domain/devices/device.types.ts';
import { GOOGLE_DEVICE_TRAITS, GOOGLE_DEVICE_TYPES } from '../../domain/devices/google-vocabulary.ts';
import { AppError, NotFoundError } from '../../errors.ts';
import { html, type SafeHtml } from '../html.ts';
import { audit, formBody, formList, type AdminSection } from './admin.ts';
import {
  checkboxField,
  csrfField,
  domainFieldErrors,
  field,
  filterSelect,
  flash,
  formError,
  isConfirmed,
  renderAdmin,
  renderConfirm,
  renderList,
  seeOther,
  selectField,
  textareaField,
  when,
  yesNo,
  type FieldErrors,
} from './ui.ts';

const short = (id: string) => id.replace(/^action\.devices\.(types|traits)\./, '');
const TYPE_OPTIONS = [...GOOGLE_DEVICE_TYPES].sort().map((t) => ({ value: t, label: short(t) }));
const TRAIT_OPTIONS = [...GOOGLE_DEVICE_TRAITS].sort().map((t) => ({ value: t, label: short(t) }));

const ownerParam = z.uuid();

/** Owner and device of the `:owner/:id` path, or a 404. */
async function deviceFromParams(app: AppContext, ctx: Koa.Context): Promise<Device> {
  const owner = ownerParam.safeParse(ctx.params.owner);
  const id = deviceIdSchema.safeParse(ctx.params.id);
  if (!owner.success || !id.success) throw new NotFoundError('Device', 'device_not_found');
  return app.services.devices.get(owner.data, id.data);
}

function devicePath(d: { ownerId?: string; owner_id?: string; id: string }): string {
  return `/admin/devices/${d.ownerId ?? d.owner_id}/${encodeURIComponent(d.id)}/`;
}

/** Parse a JSON textarea: empty → {}, otherwise an object, or a field error. */
function parseJsonObject(raw: unknown, name: string, errors: FieldErrors): Record<string, unknown> | undefined {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    errors[name] = 'must be a JSON object, e.g. {"on": true}';
  } catch (err) {
    errors[name] = `must be valid JSON (${(err as Error).message})`;
  }
  return undefined;
}

/** The device form's values turned into the service's input shape (strings → lists and objects). */
function deviceInputFromForm(body: Record<string, unknown>, errors: FieldErrors) {
  const nicknames = typeof body.nicknames === 'string' ? body.nicknames.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const attributes = parseJsonObject(body.attributes, 'attributes', errors);
  const state = parseJsonObject(body.state, 'state', errors);
  return {
    ...(typeof body.id === 'string' && body.id.trim() ? { id: body.id.trim() } : {}),
    type: typeof body.type === 'string' ? body.type : '',
    traits: formList(body.traits),
    name: typeof body.name === 'string' ? body.name : '',
    nicknames,
    room: typeof body.room === 'string' ? body.room : null,
    attributes,
    state,
    will_report_state: body.will_report_state === 'true',
  };
}

/** zod issues of the device schema as field errors (list items collapse onto the list field). */
function schemaErrors(error: z.ZodError, errors: FieldErrors): void {
  for (const i of error.issues) {
    const key = String(i.path[0] ?? '_form');
    errors[key] ??= i.message;
  }
}

interface DeviceFormValues {
  owner_email?: string;
  id?: string;
  name?: string;
  type?: string;
  traits?: string[];
  room?: string | null;
  nicknames?: string;
  attributes?: string;
  state?: string;
  will_report_state?: boolean;
}

function valuesOf(d: Device): DeviceFormValues {
  return {
    id: d.id,
    name: d.name,
    type: d.type,
    traits: d.traits,
    room: d.room,
    nicknames: d.nicknames.join(', '),
    attributes: JSON.stringify(d.attributes, null, 2),
    state: JSON.stringify(d.state, null, 2),
    will_report_state: d.willReportState,
  };
}

function formValues(body: Record<string, unknown>): DeviceFormValues {
  const s = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
  return {
    owner_email: s('owner_email'),
    id: s('id'),
    name: s('name'),
    type: s('type'),
    traits: formList(body.traits),
    room: s('room'),
    nicknames: s('nicknames'),
    attributes: s('attributes'),
    state: s('state'),
    will_report_state: body.will_report_state === 'true',
  };
}

function deviceForm(ctx: Koa.Context, o: { action: string; values: DeviceFormValues; errors?: FieldErrors; creating: boolean; submit: string }): SafeHtml {
  const v = o.values;
  const e = o.errors;
  return html`<form method="post" action="${o.action}" class="card" novalidate>
${csrfField(ctx)}
${formError(e)}
${o.creating ? field({ name: 'owner_email', label: 'Owner (email)', type: 'email', value: v.owner_email, errors: e, required: true, help: 'The user whose device this is.' }) : ''}
${o.creating ? field({ name: 'id', label: 'Device id', value: v.id, errors: e, help: 'Optional: a random id when empty. Letters, digits, . _ : - — the id Google sees and devices poll for; it cannot change later.' }) : ''}
${field({ name: 'name', label: 'Name', value: v.name, errors: e, required: true })}
${selectField({ name: 'type', label: 'Type', options: [{ value: '', label: '— choose —' }, ...TYPE_OPTIONS], selected: v.type ?? '', errors: e })}
${selectField({ name: 'traits', label: 'Traits', options: TRAIT_OPTIONS, selected: v.traits ?? [], errors: e, multiple: true, size: 8, help: 'Hold Ctrl (⌘ on a Mac) to pick several.' })}
${field({ name: 'room', label: 'Room', value: v.room ?? '', errors: e })}
${field({ name: 'nicknames', label: 'Nicknames', value: v.nicknames, errors: e, help: 'Comma separated.' })}
${textareaField({ name: 'attributes', label: 'Attributes (JSON object)', value: v.attributes ?? '{}', errors: e, help: 'Trait attributes sent in SYNC, e.g. {"colorModel": "rgb"}.' })}
${textareaField({ name: 'state', label: 'State (JSON object)', value: v.state ?? '{}', errors: e, help: 'e.g. {"on": true, "brightness": 40}. Saving replaces the stored state.' })}
${checkboxField({ name: 'will_report_state', label: 'Reports its state (willReportState)', checked: v.will_report_state ?? true, errors: e })}
<div class="actions"><button type="submit">${o.submit}</button><a class="button secondary" href="/admin/devices/">Cancel</a></div>
</form>`;
}

async function securityPanel(ctx: Koa.Context, app: AppContext, d: Device, errors?: FieldErrors): Promise<SafeHtml> {
  const s = await app.services.smarthome.settings.get(d.ownerId, d.id);
  return html`<form method="post" action="${devicePath(d)}security/" class="card" novalidate>
${csrfField(ctx)}
<h2>Google security challenge</h2>
${formError(errors)}
<p>PIN: ${s.hasPin ? html`<span class="badge ok" data-pin="set">set</span>` : html`<span class="badge" data-pin="none">none</span>`}${s.pinLockedUntil ? html` <span class="badge warn">locked until ${when(s.pinLockedUntil)}</span>` : ''} <span class="muted">(never shown)</span></p>
${selectField({
  name: 'challenge',
  label: 'Challenge',
  options: [
    { value: 'auto', label: 'auto (PIN or acknowledgement for locks, doors, garages…)' },
    { value: 'ack', label: 'acknowledgement' },
    { value: 'pin', label: 'PIN' },
  ],
  selected: s.challenge,
  errors,
})}
${field({ name: 'pin', label: 'New PIN', type: 'password', autocomplete: 'new-password', errors, help: 'Leave empty to keep the current PIN.' })}
${checkboxField({ name: 'clear_pin', label: 'Remove the PIN', checked: false, errors })}
<div class="actions"><button type="submit" class="secondary">Save security</button></div>
</form>`;
}

async function renderDevicePage(ctx: Koa.Context, app: AppContext, d: Device, o: { values?: DeviceFormValues; errors?: FieldErrors; securityErrors?: FieldErrors; status?: number } = {}): Promise<void> {
  const owner = await app.services.users.findById(d.ownerId);
  renderAdmin(ctx, {
    title: d.name,
    active: 'devices',
    status: o.status ?? 200,
    body: html`<p><a href="/admin/devices/">← Devices</a></p>
<h1>${d.name}</h1>
<p class="muted">${d.online ? html`<span class="badge ok" data-online="yes">online</span>` : html`<span class="badge" data-online="no">offline</span>`} · id <code>${d.id}</code> · owner <a href="/admin/users/${d.ownerId}/">${owner?.email ?? d.ownerId}</a> · last seen ${d.lastSeenAt ? when(d.lastSeenAt) : 'never'}</p>
<div class="actions">
<a class="button secondary" href="/admin/device-messages/?owner=${d.ownerId}&amp;device=${encodeURIComponent(d.id)}">Command messages</a>
<a class="button danger" href="${devicePath(d)}delete/">Delete…</a>
</div>
${deviceForm(ctx, { action: devicePath(d), values: o.values ?? valuesOf(d), errors: o.errors, creating: false, submit: 'Save' })}
${await securityPanel(ctx, app, d, o.securityErrors)}`,
  });
}

function renderCreate(ctx: Koa.Context, values: DeviceFormValues, errors?: FieldErrors, status = 200): void {
  renderAdmin(ctx, {
    title: 'Add device',
    active: 'devices',
    status,
    body: html`<p><a href="/admin/devices/">← Devices</a></p><h1>Add device</h1>${deviceForm(ctx, { action: '/admin/devices/new/', values, errors, creating: true, submit: 'Create device' })}`,
  });
}

const STATUS_OPTIONS: ReadonlyArray<[string, string]> = [
  ['', 'any'],
  ['pending', 'pending (unread, not expired)'],
  ['unread', 'unread'],
  ['read', 'read'],
  ['expired', 'expired (unread)'],
];

function messageStatus(m: StaffMessageRow): SafeHtml {
  if (m.read_at) return html`<span class="badge">read</span>`;
  if (m.expires_at <= new Date()) return html`<span class="badge warn">expired</span>`;
  return html`<span class="badge ok">pending</span>`;
}

export function registerDevicePages(): AdminSection {
  return {
    nav: { id: 'devices', label: 'Devices', href: '/admin/devices/' },
    async stats(app) {
      const [counts, pending] = await Promise.all([app.services.deviceStaff.deviceCounts(), app.services.deviceStaff.countPending()]);
      return [
        { id: 'devices-online', label: `Devices online (of ${counts.total})`, value: counts.online, href: '/admin/devices/?online=yes' },
        { id: 'pending-commands', label: 'Pending device commands', value: pending, href: '/admin/device-messages/?status=pending' },
      ];
    },
    async userPanels(_ctx, app, userId) {
      const { devices } = await app.services.deviceStaff.searchDevices(staffDeviceListSchema.parse({ owner: userId, sort: 'name' }));
      return html`<section class="card"><h2>Devices</h2>
${devices.length ? html`<ul>${devices.map((d) => html`<li><a href="${devicePath(d)}">${d.name}</a> <code class="muted">${d.id}</code> ${d.online_now ? html`<span class="badge ok">online</span>` : ''}</li>`)}</ul>` : html`<p class="muted">No devices.</p>`}
<p><a class="button secondary" href="/admin/devices/new/?owner=${userId}">Add a device for this user</a></p></section>`;
    },
    register(router, app) {
      const staff = app.services.deviceStaff;

      router.get('/devices/', async (ctx) => {
        const q = staffDeviceListSchema.parse(ctx.query);
        const { devices, hasMore } = await staff.searchDevices(q);
        renderAdmin(ctx, {
          title: 'Devices',
          active: 'devices',
          body: html`<div class="page-head"><h1>Devices</h1><a class="button" href="/admin/devices/new/">Add device</a></div>
${renderList<StaffDeviceRow>(ctx, {
  path: '/admin/devices/',
  query: q,
  rows: devices,
  hasMore,
  searchLabel: 'Search id, name, room or owner email',
  filters: html`${filterSelect('type', 'Type', q.type, [['', 'any'], ...TYPE_OPTIONS.map((t) => [t.value, t.label] as [string, string])])}${filterSelect('online', 'Online', q.online, [['', 'any'], ['yes', 'yes'], ['no', 'no']])}${q.owner ? html`<input type="hidden" name="owner" value="${q.owner}">` : ''}`,
  columns: [
    { label: 'Name', sort: 'name', cell: (d) => html`<a href="${devicePath(d)}">${d.name}</a>` },
    { label: 'Id', cell: (d) => html`<code>${d.id}</code>` },
    { label: 'Owner', cell: (d) => html`<a href="/admin/devices/?owner=${d.owner_id}">${d.owner_email}</a>` },
    { label: 'Type', cell: (d) => short(d.type) },
    { label: 'Room', cell: (d) => d.room ?? '' },
    { label: 'Online', cell: (d) => yesNo(d.online_now) },
    { label: 'Last seen', sort: 'last_seen', cell: (d) => when(d.last_seen_at) },
    { label: 'Added', sort: 'created', cell: (d) => when(d.created_at) },
  ],
  empty: 'No devices match.',
})}`,
        });
      });

      router.get('/devices/new/', async (ctx) => {
        const owner = ownerParam.safeParse(ctx.query.owner);
        const user = owner.success ? await app.services.users.findById(owner.data) : null;
        renderCreate(ctx, { owner_email: user?.email ?? '', traits: [], will_report_state: true, attributes: '{}', state: '{}' });
      });

      router.post('/devices/new/', async (ctx) => {
        const body = formBody(ctx);
        const errors: FieldErrors = {};
        const email = typeof body.owner_email === 'string' ? body.owner_email.trim() : '';
        const owner = email ? await app.services.users.findByEmail(email) : null;
        if (!owner) errors.owner_email = email ? 'no user with this email' : 'required';
        const input = deviceInputFromForm(body, errors);
        const parsed = newDeviceSchema.safeParse(input);
        if (!parsed.success) schemaErrors(parsed.error, errors);
        if (Object.keys(errors).length || !parsed.success || !owner) return renderCreate(ctx, formValues(body), errors, 400);
        let device: Device;
        try {
          device = await app.services.devices.create(owner.id, parsed.data);
        } catch (err) {
          const fe = domainFieldErrors(err);
          if (fe) return renderCreate(ctx, formValues(body), fe, (err as AppError).status);
          throw err;
        }
        await audit(ctx, app, {
          action: 'device.create',
          targetType: 'device',
          targetId: `${owner.id}/${device.id}`,
          summary: `created device ${device.id} (${short(device.type)}) for ${owner.email}`,
          details: { type: device.type, traits: device.traits, name: device.name },
        });
        flash(ctx, `Device ${device.name} created.`);
        seeOther(ctx, devicePath(device));
      });

      router.get('/devices/:owner/:id/', async (ctx) => {
        await renderDevicePage(ctx, app, await deviceFromParams(app, ctx));
      });

      router.post('/devices/:owner/:id/', async (ctx) => {
        const d = await deviceFromParams(app, ctx);
        const body = formBody(ctx);
        const errors: FieldErrors = {};
        const { state, id: _id, ...rest } = deviceInputFromForm(body, errors);
        const parsed = deviceUpdateSchema.safeParse(rest);
        if (!parsed.success) schemaErrors(parsed.error, errors);
        const stateOk = state === undefined ? null : newDeviceSchema.shape.state.safeParse(state);
        if (stateOk && !stateOk.success) schemaErrors(new z.ZodError(stateOk.error.issues.map((i) => ({ ...i, path: ['state', ...i.path] }))), errors);
        if (Object.keys(errors).length || !parsed.success || !stateOk?.success || !stateOk.data) {
          return renderDevicePage(ctx, app, d, { values: formValues(body), errors, status: 400 });
        }
        const newState = stateOk.data;
        const updated = await app.services.devices.update(d.ownerId, d.id, parsed.data);
        const stateChanged = JSON.stringify(newState) !== JSON.stringify(d.state);
        if (stateChanged) await app.services.devices.reportState(d.ownerId, d.id, { state: newState }, { replace: true, fromDevice: false });
        const changed: string[] = (['name', 'type', 'room', 'willReportState'] as const).filter((k) => updated[k] !== d[k]);
        for (const k of ['traits', 'attributes', 'nicknames'] as const) if (JSON.stringify(updated[k]) !== JSON.stringify(d[k])) changed.push(k);
        if (stateChanged) changed.push('state');
        if (changed.length) {
          await audit(ctx, app, { action: 'device.update', targetType: 'device', targetId: `${d.ownerId}/${d.id}`, summary: `changed ${changed.join(', ')} of device ${d.id}`, details: { fields: changed } });
        }
        flash(ctx, changed.length ? 'Saved.' : 'Nothing changed.');
        seeOther(ctx, devicePath(d));
      });

      router.post('/devices/:owner/:id/security/', async (ctx) => {
        const d = await deviceFromParams(app, ctx);
        const body = formBody(ctx);
        const clear = body.clear_pin === 'true';
        const pin = typeof body.pin === 'string' ? body.pin : '';
        const input = { challenge: body.challenge, ...(clear ? { pin: null } : pin ? { pin } : {}) };
        try {
          await app.services.smarthome.settings.update(d.ownerId, d.id, input as never);
        } catch (err) {
          const fe = domainFieldErrors(err);
          if (fe) return renderDevicePage(ctx, app, d, { securityErrors: fe, status: 400 });
          throw err;
        }
        await audit(ctx, app, {
          action: 'device.security',
          targetType: 'device',
          targetId: `${d.ownerId}/${d.id}`,
          summary: `set the challenge of device ${d.id}${clear ? ' and removed its PIN' : pin ? ' and set a new PIN' : ''}`,
          details: { challenge: input.challenge, pinChanged: clear || !!pin },
        });
        flash(ctx, 'Security settings saved.');
        seeOther(ctx, devicePath(d));
      });

      const remove = async (ctx: Koa.Context) => {
        const d = await deviceFromParams(app, ctx);
        if (ctx.method === 'GET' || !isConfirmed(formBody(ctx))) {
          return renderConfirm(ctx, {
            title: `Delete device ${d.name}?`,
            message: html`<p>The device <code>${d.id}</code> and all its command messages are deleted. Google stops seeing it at the next sync.</p>`,
            action: `${devicePath(d)}delete/`,
            button: 'Yes, delete',
            back: devicePath(d),
            active: 'devices',
          });
        }
        await app.services.devices.remove(d.ownerId, d.id);
        await audit(ctx, app, { action: 'device.delete', targetType: 'device', targetId: `${d.ownerId}/${d.id}`, summary: `deleted device ${d.id}` });
        flash(ctx, `Device ${d.name} deleted.`);
        seeOther(ctx, '/admin/devices/');
      };
      router.get('/devices/:owner/:id/delete/', remove);
      router.post('/devices/:owner/:id/delete/', remove);

      router.get('/device-messages/', async (ctx) => {
        const q = staffMessageListSchema.parse(ctx.query);
        const { messages, hasMore } = await staff.searchMessages(q);
        renderAdmin(ctx, {
          title: 'Command messages',
          active: 'device-messages',
          body: html`<h1>Device command messages</h1>
${renderList<StaffMessageRow>(ctx, {
  path: '/admin/device-messages/',
  query: q,
  rows: messages,
  hasMore,
  searchLabel: 'Search topic or text',
  filters: html`<label class="filter">Device <input type="text" name="device" value="${q.device}" size="12"></label><label class="filter">Topic <input type="text" name="topic" value="${q.topic}" size="18"></label>${filterSelect('status', 'Status', q.status, STATUS_OPTIONS)}${q.owner ? html`<input type="hidden" name="owner" value="${q.owner}">` : ''}`,
  bulk: {
    id: (m) => m.id,
    action: '/admin/device-messages/bulk/',
    buttons: [
      { name: 'requeue', label: 'Mark selected as unread' },
      { name: 'delete', label: 'Delete selected…', danger: true },
    ],
  },
  columns: [
    { label: 'Created', sort: 'created', cell: (m) => when(m.created_at) },
    { label: 'Topic', sort: 'topic', cell: (m) => html`<code>${m.topic}</code>` },
    { label: 'Text', cell: (m) => m.text },
    { label: 'Device', cell: (m) => html`<a href="${devicePath({ owner_id: m.owner_id, id: m.device_id })}">${m.device_id}</a>` },
    { label: 'Owner', cell: (m) => m.owner_email },
    { label: 'Status', cell: messageStatus },
    { label: 'Expires', cell: (m) => when(m.expires_at) },
  ],
  empty: 'No command messages match.',
})}`,
        });
      });

      router.post('/device-messages/bulk/', async (ctx) => {
        const body = formBody(ctx);
        const parsed = bulkIdsSchema.safeParse(formList(body.ids));
        if (!parsed.success) {
          flash(ctx, parsed.error.issues[0]?.message === 'select at least one message' ? 'Select at least one message first.' : 'The selection is not valid.');
          return seeOther(ctx, '/admin/device-messages/');
        }
        const ids = parsed.data;
        if (body.bulk === 'requeue') {
          const done = await staff.requeue(ids);
          await audit(ctx, app, { action: 'device_message.requeue', targetType: 'device_message', targetId: done.length === 1 ? done[0]! : '', summary: `marked ${done.length} command message(s) as unread`, details: { ids: done } });
          flash(ctx, `${done.length} message(s) marked as unread; devices get them at their next poll.`);
          return seeOther(ctx, '/admin/device-messages/');
        }
        if (body.bulk === 'delete') {
          if (!isConfirmed(body)) {
            return renderConfirm(ctx, {
              title: `Delete ${ids.length} command message(s)?`,
              message: html`<p>These messages are deleted; devices that have not fetched them never will.</p>`,
              action: '/admin/device-messages/bulk/',
              button: 'Yes, delete',
              back: '/admin/device-messages/',
              hidden: { bulk: 'delete', ids },
              active: 'device-messages',
            });
          }
          const done = await staff.deleteMessages(ids);
          await audit(ctx, app, { action: 'device_message.delete', targetType: 'device_message', targetId: done.length === 1 ? done[0]! : '', summary: `deleted ${done.length} command message(s)`, details: { ids: done } });
          flash(ctx, `${done.length} message(s) deleted.`);
          return seeOther(ctx, '/admin/device-messages/');
        }
        throw new AppError(400, 'unknown_action', 'Unknown bulk action');
      });
    },
  };
}

/** The command messages entry of the navigation (its pages are registered with the devices). */
export function deviceMessagesNav(): AdminSection {
  return { nav: { id: 'device-messages', label: 'Command messages', href: '/admin/device-messages/' }, register() {} };
}
