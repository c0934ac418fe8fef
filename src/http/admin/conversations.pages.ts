/**
 * Admin conversations: list/search every conversation; a conversation's participants (add, remove) and
 * its messages page by page; delete a message. Changes go through the conversation and message services
 * as a moderator (same rules and events as for members: sockets and long-polls hear about them).
 */
import type Koa from 'koa';
import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import { conversationSearchSchema } from '../../domain/messaging/moderation.service.ts';
import type { Conversation } from '../../domain/messaging/messaging.types.ts';
import type { User } from '../../domain/users/user.types.ts';
import { NotFoundError } from '../../errors.ts';
import { html, type SafeHtml } from '../html.ts';
import { adminActor, audit, formBody, type AdminSection } from './admin.ts';
import { csrfField, domainFieldErrors, field, flash, isConfirmed, renderAdmin, renderConfirm, renderList, seeOther, when, type FieldErrors } from './ui.ts';

const beforeSchema = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const uuid = z.uuid();

function startOfUtcDay(): Date {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d;
}

async function emailsFor(app: AppContext, convs: readonly Conversation[], extra: readonly (string | null)[] = []): Promise<Map<string, User>> {
  const ids = [...convs.flatMap((c) => c.members.map((m) => m.userId)), ...extra.filter((x): x is string => !!x)];
  return new Map((await app.services.users.findByIds(ids)).map((u) => [u.id, u]));
}

function label(c: Conversation, users: Map<string, User>): string {
  if (c.title) return c.title;
  const names = c.members.map((m) => users.get(m.userId)?.email ?? 'unknown');
  return c.isDirect ? `1:1 ${names.join(' & ')}` : names.slice(0, 3).join(', ') + (names.length > 3 ? ` +${names.length - 3}` : '');
}

async function renderConversation(ctx: Koa.Context, app: AppContext, c: Conversation, o: { errors?: FieldErrors; email?: string; status?: number } = {}): Promise<void> {
  const before = beforeSchema.safeParse(ctx.query.before);
  const window = await app.services.moderation.history(c, before.success ? before.data : undefined);
  const users = await emailsFor(app, [c], window.items.map((m) => m.senderId));
  const base = `/admin/conversations/${c.id}/`;
  renderAdmin(ctx, {
    title: label(c, users),
    active: 'conversations',
    status: o.status ?? 200,
    body: html`<p><a href="/admin/conversations/">← Conversations</a></p>
<h1>${label(c, users)}</h1>
<p class="muted">${c.isDirect ? '1:1 · ' : ''}${c.lastSeq} message(s) · created ${when(c.createdAt)} · id <code>${c.id}</code></p>
<section class="card"><h2>Participants (${c.members.length})</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Joined</th><th scope="col">Read up to</th><th scope="col"></th></tr></thead><tbody>
${c.members.map(
  (m) => html`<tr><td><a href="/admin/users/${m.userId}/">${users.get(m.userId)?.email ?? m.userId}</a></td><td>${m.role}</td><td>${when(m.joinedAt)}</td><td>${m.readSeq}</td>
<td><form method="post" action="${base}participants/${m.userId}/remove/" class="inline">${csrfField(ctx)}<button type="submit" class="danger">Remove…</button></form></td></tr>`,
)}
</tbody></table></div>
<form method="post" action="${base}participants/" class="inline-form" novalidate>
${csrfField(ctx)}
${field({ name: 'email', label: 'Add a participant (email)', type: 'email', value: o.email ?? '', errors: o.errors })}
<div class="actions"><button type="submit" class="secondary">Add participant</button></div>
</form>
</section>
<section class="card"><h2>Messages</h2>
${window.hasBefore ? html`<p><a href="${base}?before=${window.firstSeq}" rel="prev">← Older messages</a></p>` : ''}
${window.items.length === 0 ? html`<p class="muted">No messages.</p>` : ''}
<div class="table-wrap"><table><thead><tr><th scope="col">#</th><th scope="col">From</th><th scope="col">Message</th><th scope="col">Sent</th><th scope="col"></th></tr></thead><tbody>
${window.items.map(
  (m) => html`<tr data-message="${m.id}"><td>${m.seq}</td><td>${m.senderId ? (users.get(m.senderId)?.email ?? m.senderId) : 'deleted account'}</td>
<td>${m.deletedAt ? html`<span class="muted">(deleted ${when(m.deletedAt)})</span>` : m.body}${m.editedAt && !m.deletedAt ? html` <span class="muted">(edited)</span>` : ''}</td><td>${when(m.createdAt)}</td>
<td>${m.deletedAt ? '' : html`<form method="post" action="${base}messages/${m.id}/delete/" class="inline">${csrfField(ctx)}<button type="submit" class="danger">Delete…</button></form>`}</td></tr>`,
)}
</tbody></table></div>
${window.hasAfter ? html`<p><a href="${base}" rel="next">Newest messages →</a></p>` : ''}
</section>`,
  });
}

async function conversationFromParam(app: AppContext, id: string | undefined): Promise<Conversation> {
  if (!uuid.safeParse(id).success) throw new NotFoundError('Conversation');
  return app.services.moderation.get(id!);
}

export function registerConversationPages(): AdminSection {
  return {
    nav: { id: 'conversations', label: 'Conversations', href: '/admin/conversations/' },
    async stats(app) {
      const [conversations, today] = await Promise.all([app.services.moderation.countConversations(), app.services.moderation.countMessagesSince(startOfUtcDay())]);
      return [
        { id: 'conversations', label: 'Conversations', value: conversations, href: '/admin/conversations/' },
        { id: 'messages-today', label: 'Messages today (UTC)', value: today },
      ];
    },
    async userPanels(_ctx, _app, userId): Promise<SafeHtml> {
      return html`<p><a class="button secondary" href="/admin/conversations/?member=${userId}">Conversations of this user</a></p>`;
    },
    register(router, app) {
      router.get('/conversations/', async (ctx) => {
        const q = conversationSearchSchema.parse(ctx.query);
        const { conversations, hasMore } = await app.services.moderation.search(q);
        const users = await emailsFor(app, conversations);
        renderAdmin(ctx, {
          title: 'Conversations',
          active: 'conversations',
          body: html`<h1>Conversations</h1>
${renderList<Conversation>(ctx, {
  path: '/admin/conversations/',
  query: q,
  rows: conversations,
  hasMore,
  searchLabel: 'Search title or participant email',
  filters: q.member ? html`<input type="hidden" name="member" value="${q.member}">` : undefined,
  columns: [
    { label: 'Conversation', cell: (c) => html`<a href="/admin/conversations/${c.id}/">${label(c, users)}</a>` },
    { label: 'Participants', cell: (c) => String(c.members.length) },
    { label: 'Messages', cell: (c) => String(c.lastSeq) },
    { label: 'Last message', cell: (c) => (c.lastMessage ? (c.lastMessage.deletedAt ? html`<span class="muted">(deleted)</span>` : (c.lastMessage.body ?? '').slice(0, 80)) : '') },
    { label: 'Last activity', sort: 'activity', cell: (c) => when(c.lastMessageAt) },
    { label: 'Created', sort: 'created', cell: (c) => when(c.createdAt) },
  ],
  empty: 'No conversations match.',
})}`,
        });
      });

      router.get('/conversations/:id/', async (ctx) => {
        await renderConversation(ctx, app, await conversationFromParam(app, ctx.params.id));
      });

      router.post('/conversations/:id/participants/', async (ctx) => {
        const c = await conversationFromParam(app, ctx.params.id);
        const email = String(formBody(ctx).email ?? '').trim();
        const user = email ? await app.services.users.findByEmail(email) : null;
        if (!user || !user.isActive) {
          return renderConversation(ctx, app, c, { email, errors: { email: email ? 'no active user with this email' : 'required' }, status: 400 });
        }
        if (c.members.some((m) => m.userId === user.id)) {
          return renderConversation(ctx, app, c, { email, errors: { email: 'already a participant' }, status: 400 });
        }
        try {
          await app.services.conversations.addParticipants(adminActor(ctx), c.id, [user.id], { moderator: true });
        } catch (err) {
          const fe = domainFieldErrors(err);
          if (fe) return renderConversation(ctx, app, c, { email, errors: { email: Object.values(fe)[0]! }, status: 400 });
          throw err;
        }
        await audit(ctx, app, { action: 'conversation.add_participant', targetType: 'conversation', targetId: c.id, summary: `added ${user.email} to a conversation`, details: { userId: user.id } });
        flash(ctx, `${user.email} added.`);
        seeOther(ctx, `/admin/conversations/${c.id}/`);
      });

      router.post('/conversations/:id/participants/:userId/remove/', async (ctx) => {
        const c = await conversationFromParam(app, ctx.params.id);
        const member = c.members.find((m) => m.userId === ctx.params.userId);
        if (!member) throw new NotFoundError('Participant');
        const [user] = await app.services.users.findByIds([member.userId]);
        const who = user?.email ?? member.userId;
        if (!isConfirmed(formBody(ctx))) {
          return renderConfirm(ctx, {
            title: `Remove ${who}?`,
            message: html`<p>${who} leaves the conversation at once (their sockets hear about it).${c.members.length === 1 ? html` <strong>They are the last participant: the conversation and all its messages are deleted.</strong>` : ''}</p>`,
            action: `/admin/conversations/${c.id}/participants/${member.userId}/remove/`,
            button: 'Yes, remove',
            back: `/admin/conversations/${c.id}/`,
            active: 'conversations',
          });
        }
        const { deleted } = await app.services.conversations.removeParticipant(adminActor(ctx), c.id, member.userId, { moderator: true });
        await audit(ctx, app, {
          action: 'conversation.remove_participant',
          targetType: 'conversation',
          targetId: c.id,
          summary: `removed ${who} from a conversation${deleted ? ' (it was deleted: nobody left)' : ''}`,
          details: { userId: member.userId, deleted },
        });
        flash(ctx, deleted ? `${who} removed; the conversation was empty and is deleted.` : `${who} removed.`);
        seeOther(ctx, deleted ? '/admin/conversations/' : `/admin/conversations/${c.id}/`);
      });

      router.post('/conversations/:id/messages/:messageId/delete/', async (ctx) => {
        const c = await conversationFromParam(app, ctx.params.id);
        const messageId = ctx.params.messageId ?? '';
        const target = await app.services.moderation.message(messageId);
        if (!target || target.conversationId !== c.id) throw new NotFoundError('Message');
        if (!isConfirmed(formBody(ctx))) {
          return renderConfirm(ctx, {
            title: 'Delete this message?',
            message: html`<p>Its text is removed for everyone; the conversation shows that a message was deleted.</p>`,
            action: `/admin/conversations/${c.id}/messages/${messageId}/delete/`,
            button: 'Yes, delete',
            back: `/admin/conversations/${c.id}/`,
            active: 'conversations',
          });
        }
        const m = await app.services.messages.remove(adminActor(ctx), messageId, { moderator: true });
        await audit(ctx, app, { action: 'message.delete', targetType: 'message', targetId: m.id, summary: `deleted message #${m.seq} of a conversation`, details: { conversationId: c.id, senderId: m.senderId } });
        flash(ctx, 'Message deleted.');
        seeOther(ctx, `/admin/conversations/${c.id}/`);
      });
    },
  };
}
