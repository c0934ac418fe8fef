/** The audit log in the admin: every change (who, what, when), searchable and filterable by target. */
import { auditListSchema } from '../../domain/audit/audit.schemas.ts';
import type { AuditEntry } from '../../domain/audit/audit.types.ts';
import { html } from '../html.ts';
import type { AdminSection } from './admin.ts';
import { filterSelect, renderAdmin, renderList, when } from './ui.ts';

const TARGET_TYPES: ReadonlyArray<[string, string]> = [
  ['', 'any'],
  ['user', 'users'],
  ['conversation', 'conversations'],
  ['message', 'messages'],
  ['device', 'devices'],
  ['device_message', 'command messages'],
  ['oauth_client', 'OAuth clients'],
  ['oauth_grant', 'OAuth grants'],
];

export function registerAuditPages(): AdminSection {
  return {
    nav: { id: 'audit', label: 'Audit log', href: '/admin/audit/' },
    register(router, app) {
      router.get('/audit/', async (ctx) => {
        const q = auditListSchema.parse(ctx.query);
        const { entries, hasMore } = await app.services.audit.list(q);
        renderAdmin(ctx, {
          title: 'Audit log',
          active: 'audit',
          body: html`<h1>Audit log</h1>
${renderList<AuditEntry>(ctx, {
  path: '/admin/audit/',
  query: q,
  rows: entries,
  hasMore,
  searchLabel: 'Search action, staff email or summary',
  filters: html`${filterSelect('target_type', 'Object', q.target_type, TARGET_TYPES)}${q.target_id ? html`<input type="hidden" name="target_id" value="${q.target_id}">` : ''}`,
  columns: [
    { label: 'When', sort: 'at', cell: (e) => when(e.at) },
    { label: 'Who', cell: (e) => e.actorEmail || 'system' },
    { label: 'Action', sort: 'action', cell: (e) => html`<code>${e.action}</code>` },
    { label: 'Object', cell: (e) => html`${e.targetType} <code class="muted">${e.targetId}</code>` },
    { label: 'Summary', cell: (e) => e.summary },
    { label: 'Details', cell: (e) => (Object.keys(e.details).length ? html`<code class="small">${JSON.stringify(e.details)}</code>` : '') },
  ],
  empty: 'No entries match.',
})}`,
        });
      });
    },
  };
}
