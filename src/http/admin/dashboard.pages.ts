/** The admin dashboard: counts contributed by every section, and the latest changes from the audit log. */
import type { AppContext } from '../../app-context.ts';
import { html } from '../html.ts';
import type { AdminSection } from './admin.ts';
import { renderAdmin, when } from './ui.ts';

export interface DashboardStat {
  label: string;
  value: number | string;
  href?: string;
  /** Stable id for tests and styling. */
  id: string;
}

function startOfUtcDay(): Date {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d;
}

async function safeStats(app: AppContext, s: AdminSection): Promise<DashboardStat[]> {
  try {
    return (await s.stats?.(app)) ?? [];
  } catch (err) {
    // One failing count must not take the dashboard down.
    app.logger.error({ err, section: s.nav.id }, 'dashboard count failed');
    return [{ id: `${s.nav.id}-unavailable`, label: `${s.nav.label} (unavailable)`, value: '—' }];
  }
}

export function registerDashboard(sections: AdminSection[]): AdminSection {
  return {
    nav: { id: 'dashboard', label: 'Dashboard', href: '/admin/' },
    register(router, app) {
      router.get('/', async (ctx) => {
        const [perSection, changesToday, recent] = await Promise.all([
          Promise.all(sections.map((s) => safeStats(app, s))),
          app.services.audit.countSince(startOfUtcDay()),
          app.services.audit.list({ q: '', target_type: '', target_id: '', sort: '-at', page: 1 }),
        ]);
        const stats: DashboardStat[] = [...perSection.flat(), { id: 'changes-today', label: 'Admin changes today', value: changesToday, href: '/admin/audit/' }];
        renderAdmin(ctx, {
          title: 'Dashboard',
          active: 'dashboard',
          body: html`<h1>MessageBridge administration</h1>
<section class="grid stats" aria-label="Counts">
${stats.map(
  (s) => html`<div class="stat" data-stat="${s.id}"><div class="n">${s.href ? html`<a href="${s.href}">${String(s.value)}</a>` : String(s.value)}</div><div class="muted">${s.label}</div></div>`,
)}
</section>
<h2>Recent changes</h2>
<div class="table-wrap"><table>
<thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th></tr></thead>
<tbody>
${recent.entries.length === 0 ? html`<tr><td colspan="3" class="muted">No changes yet.</td></tr>` : ''}
${recent.entries.slice(0, 10).map((e) => html`<tr><td>${when(e.at)}</td><td>${e.actorEmail || 'system'}</td><td><code>${e.action}</code> ${e.summary}</td></tr>`)}
</tbody></table></div>
<p><a href="/admin/audit/">Full audit log</a></p>`,
        });
      });
    },
  };
}
