/**
 * Messages: send (idempotent, group-committed), read, list, edit and delete own, receipts as watermarks,
 * and change-cursor catch-up for realtime clients. Every call takes the acting user; a non-member gets
 * NotFound. Events and pub/sub wake-ups go out only after the transaction committed.
 */
import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError } from '../../errors.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { Limiter } from '../../infra/rate-limit.ts';
import type { Actor } from '../users/user.types.ts';
import * as convRepo from './conversation.repository.ts';
import * as msgRepo from './message.repository.ts';
import {
  HISTORY_LIMIT_DEFAULT,
  historyQuerySchema,
  isId,
  messageBodySchema,
  pageQuerySchema,
  parseInput,
  receiptsSchema,
  sendMessageSchema,
  type HistoryQuery,
  type PageQuery,
  type ReceiptsInput,
  type SendMessageInput,
} from './messaging.schemas.ts';
import { requireMember, wake, type MessagingDeps } from './messaging.shared.ts';
import type { ConversationSync, Member, Message, MessageStatus, MessageWindow, Page, Receipt, SenderStatusChange, Watermarks } from './messaging.types.ts';
import { SendBatcher, type BatcherOptions, type Outcome } from './send-batcher.ts';

export interface MessageServiceDeps extends MessagingDeps {
  /** Per-user budget for send/edit/delete (omit for none). */
  sendLimiter?: Limiter;
  /** Group-commit tuning. */
  batch?: Partial<BatcherOptions>;
}

export interface SendResult {
  message: Message;
  /** False when an earlier send with the same client_msg_id was returned instead. */
  created: boolean;
}

interface SendJob {
  senderId: string;
  conversationId: string;
  body: string;
  clientMsgId: string | null;
}

const SYNC_LIMIT_DEFAULT = 100;
const SYNC_LIMIT_MAX = 1000;

export function createMessageService(deps: MessageServiceDeps) {
  const { db, events, pubsub, logger, sendLimiter } = deps;
  const idemKey = (conversationId: string, senderId: string | null, clientMsgId: string | null) => `${conversationId}\u0000${senderId}\u0000${clientMsgId}`;

  function groupMembers(rows: Awaited<ReturnType<typeof convRepo.findMembers>>): Map<string, Member[]> {
    const by = new Map<string, Member[]>();
    for (const r of rows) {
      let list = by.get(r.conversation_id);
      if (!list) by.set(r.conversation_id, (list = []));
      list.push(convRepo.rowToMember(r));
    }
    return by;
  }

  /** One transaction for a whole batch of sends; per-job outcomes in job order. */
  async function flushSends(jobs: SendJob[]): Promise<Array<Outcome<SendResult>>> {
    const outcomes: Array<Outcome<SendResult> | undefined> = new Array(jobs.length);
    const convIds = [...new Set(jobs.map((j) => j.conversationId))].sort();
    const dupOf = new Map<number, number>();
    const inserted = new Map<number, Message>();
    const { members } = await db.transaction().execute(async (trx) => {
      const convRows = await convRepo.lockConversations(trx, convIds);
      const members = groupMembers(await convRepo.findMembers(trx, convRows.map((r) => r.id)));
      const valid: number[] = [];
      jobs.forEach((j, i) => {
        if (members.get(j.conversationId)?.some((m) => m.userId === j.senderId)) valid.push(i);
        else outcomes[i] = { ok: false, error: new NotFoundError('Conversation') };
      });
      const keyed = valid.map((i) => jobs[i]!).filter((j) => j.clientMsgId !== null);
      const existing = new Map(
        (await msgRepo.findByClientIds(trx, keyed.map((j) => ({ conversationId: j.conversationId, senderId: j.senderId, clientMsgId: j.clientMsgId! })))).map((m) => [
          idemKey(m.conversationId, m.senderId, m.clientMsgId),
          m,
        ]),
      );
      const counters = new Map(convRows.map((r) => [r.id, { id: r.id, lastSeq: Number(r.last_seq), lastChangeSeq: Number(r.last_change_seq), used: false }]));
      const firstByKey = new Map<string, number>();
      const rows: msgRepo.NewMessage[] = [];
      const rowJob: number[] = [];
      for (const i of valid) {
        const j = jobs[i]!;
        if (j.clientMsgId !== null) {
          const k = idemKey(j.conversationId, j.senderId, j.clientMsgId);
          const ex = existing.get(k);
          if (ex) {
            outcomes[i] = { ok: true, value: { message: ex, created: false } };
            continue;
          }
          const first = firstByKey.get(k);
          if (first !== undefined) {
            dupOf.set(i, first);
            continue;
          }
          firstByKey.set(k, i);
        }
        const c = counters.get(j.conversationId)!;
        c.lastSeq++;
        c.lastChangeSeq++;
        c.used = true;
        rows.push({ conversationId: j.conversationId, senderId: j.senderId, seq: c.lastSeq, changeSeq: c.lastChangeSeq, clientMsgId: j.clientMsgId, body: j.body });
        rowJob.push(i);
      }
      if (rows.length === 0) return { members };
      const insertedRows = await msgRepo.insertMessages(trx, rows);
      const bySeq = new Map(insertedRows.map((r) => [`${r.conversation_id}:${Number(r.seq)}`, r]));
      rows.forEach((r, n) => {
        const row = bySeq.get(`${r.conversationId}:${r.seq}`)!;
        inserted.set(rowJob[n]!, msgRepo.rowToMessage({ ...row, status: 'sent' }));
      });
      await convRepo.setCounters(trx, [...counters.values()].filter((c) => c.used));
      const own = new Map<string, { conversationId: string; userId: string; seq: number }>();
      for (const r of rows) own.set(`${r.conversationId}:${r.senderId}`, { conversationId: r.conversationId, userId: r.senderId, seq: r.seq });
      await convRepo.advanceSenderWatermarks(trx, [...own.values()]);
      return { members };
    });
    // Committed: settle, then announce in seq order.
    for (const [i, message] of inserted) outcomes[i] = { ok: true, value: { message, created: true } };
    for (const [i, first] of dupOf) {
      const o = outcomes[first]!;
      outcomes[i] = o.ok ? { ok: true, value: { message: o.value.message, created: false } } : o;
    }
    const latest = new Map<string, number>();
    for (const message of inserted.values()) {
      const ids = (members.get(message.conversationId) ?? []).map((m) => m.userId);
      void events.emit('message.created', { conversationId: message.conversationId, message, memberIds: ids });
      latest.set(message.conversationId, Math.max(latest.get(message.conversationId) ?? 0, message.changeSeq));
    }
    for (const [conversationId, changeSeq] of latest) {
      wake(pubsub, logger, (members.get(conversationId) ?? []).map((m) => m.userId), { conversation_id: conversationId, change_seq: changeSeq, kind: 'message' });
    }
    return outcomes.map((o) => o ?? { ok: false, error: new Error('send outcome missing') });
  }

  const batcher = new SendBatcher<SendJob, SendResult>(flushSends, (j) => j.conversationId, {
    maxBatch: deps.batch?.maxBatch ?? 200,
    windowMs: deps.batch?.windowMs ?? 0,
    concurrency: deps.batch?.concurrency ?? 2,
  });

  /** The message if the actor is a member of its conversation; NotFound otherwise. */
  async function visibleMessage(actor: Actor, messageId: string): Promise<Message> {
    if (!isId(messageId)) throw new NotFoundError('Message');
    const message = await msgRepo.findMessageById(db, messageId);
    if (!message || !(await convRepo.findMember(db, message.conversationId, actor.user.id))) throw new NotFoundError('Message');
    return message;
  }

  /** Edit or delete one's own message in a transaction that takes the next change position. */
  async function change(actor: Actor, messageId: string, body: string | null, moderator = false): Promise<Message> {
    let message: Message | undefined;
    if (moderator) {
      message = isId(messageId) ? await msgRepo.findMessageById(db, messageId) : undefined;
      if (!message) throw new NotFoundError('Message');
    } else {
      message = await visibleMessage(actor, messageId);
      if (message.senderId !== actor.user.id) throw new ForbiddenError('You can only change your own messages', 'not_message_sender');
    }
    if (message.deletedAt) {
      if (body === null) return message;
      throw new ConflictError('The message was deleted', 'message_deleted');
    }
    if (!moderator) await sendLimiter?.consume(actor.user.id);
    const changed = await db.transaction().execute(async (trx) => {
      const changeSeq = await convRepo.nextChangeSeq(trx, message.conversationId);
      if (changeSeq === undefined) throw new NotFoundError('Message');
      const current = await msgRepo.findMessageById(trx, messageId);
      if (!current) throw new NotFoundError('Message');
      if (!moderator && !(await convRepo.findMember(trx, message.conversationId, actor.user.id))) throw new NotFoundError('Message');
      if (current.deletedAt) {
        if (body === null) return false;
        throw new ConflictError('The message was deleted', 'message_deleted');
      }
      await msgRepo.updateMessage(trx, messageId, { body, changeSeq, deleted: body === null });
      return true;
    });
    const fresh = (await msgRepo.findMessageById(db, messageId))!;
    if (changed) {
      const ids = (await convRepo.findMembers(db, [fresh.conversationId])).map((m) => m.user_id);
      await events.emit(body === null ? 'message.deleted' : 'message.updated', { conversationId: fresh.conversationId, message: fresh, memberIds: ids });
      wake(pubsub, logger, ids, { conversation_id: fresh.conversationId, change_seq: fresh.changeSeq, kind: 'message' });
    }
    return fresh;
  }

  return {
    /**
     * Send a message. Idempotent per (conversation, sender, clientMsgId): a retry returns the original
     * (`created: false`). Resolves after the commit (the message is `sent`). Throws ValidationError for a
     * bad body, NotFound when the actor is not a member, RateLimitedError over the send budget.
     */
    async send(actor: Actor, input: SendMessageInput): Promise<SendResult> {
      if (!isId(input.conversationId)) throw new NotFoundError('Conversation');
      const data = parseInput(sendMessageSchema, input);
      try {
        await sendLimiter?.consume(actor.user.id);
      } catch (err) {
        // Over budget, a retry of a send that already committed still gets its original: the client must be
        // able to learn the outcome of what it sent.
        if (err instanceof RateLimitedError && data.clientMsgId) {
          const [original] = await msgRepo.findByClientIds(db, [{ conversationId: data.conversationId, senderId: actor.user.id, clientMsgId: data.clientMsgId }]);
          if (original) return { message: original, created: false };
        }
        throw err;
      }
      const job: SendJob = { senderId: actor.user.id, conversationId: data.conversationId, body: data.body, clientMsgId: data.clientMsgId ?? null };
      try {
        return await batcher.submit(job);
      } catch (err) {
        // Another node committed the same client_msg_id first: this attempt now finds it.
        if (isUniqueViolation(err, 'messages_client_msg_id')) return batcher.submit(job);
        throw err;
      }
    },

    /** One message. Throws NotFound unless the actor is a member of its conversation. */
    get: visibleMessage,

    /** Edit one's own message. Throws NotFound, ForbiddenError `not_message_sender`, ConflictError `message_deleted`. */
    async edit(actor: Actor, messageId: string, body: string): Promise<Message> {
      return change(actor, messageId, parseInput(messageBodySchema, body));
    },

    /**
     * Delete one's own message (soft: the body is gone, the seq stays). Deleting twice is a no-op. With
     * `moderator: true` staff delete anyone's message (ForbiddenError `staff_only` for non-staff).
     */
    async remove(actor: Actor, messageId: string, opts: { moderator?: boolean } = {}): Promise<Message> {
      if (opts.moderator && !actor.user.isStaff) throw new ForbiddenError('Only staff can moderate conversations', 'staff_only');
      return change(actor, messageId, null, opts.moderator === true);
    },

    /**
     * A window of a conversation's history by seq (ascending): after `afterSeq`, before `beforeSeq`, or the
     * newest `limit`. Never counts the table. Throws NotFound for non-members.
     */
    async history(actor: Actor, conversationId: string, query: HistoryQuery): Promise<MessageWindow> {
      const q = parseInput(historyQuerySchema, query);
      // Membership and the conversation's last seq in one round trip: this is the hottest read.
      const member = isId(conversationId) ? await convRepo.findMemberLastSeq(db, conversationId, actor.user.id) : undefined;
      if (!member) throw new NotFoundError('Conversation');
      return msgRepo.findWindow(db, conversationId, member.lastSeq, { ...q, limit: q.limit ?? HISTORY_LIMIT_DEFAULT });
    },

    /** Messages of the actor's conversations, newest first, optionally one conversation / one status. */
    async list(actor: Actor, filter: { conversationId?: string; status?: MessageStatus } & Partial<PageQuery>): Promise<Page<Message>> {
      const p = parseInput(pageQuerySchema, { page: filter.page, pageSize: filter.pageSize });
      if (filter.conversationId !== undefined) await requireMember(db, filter.conversationId, actor.user.id);
      const { count, items } = await msgRepo.listForMember(db, {
        userId: actor.user.id,
        ...(filter.conversationId !== undefined ? { conversationId: filter.conversationId } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        offset: (p.page - 1) * p.pageSize,
        limit: p.pageSize,
      });
      return { count, items };
    },

    /** Per-recipient state of a message (every member but its sender). */
    async receipts(actor: Actor, messageId: string): Promise<{ message: Message; receipts: Receipt[] }> {
      const message = await visibleMessage(actor, messageId);
      const members = await convRepo.findMembers(db, [message.conversationId]);
      const receipts = members
        .filter((m) => m.user_id !== message.senderId)
        .map((r) => {
          const m = convRepo.rowToMember(r);
          return { userId: m.userId, deliveredSeq: m.deliveredSeq, readSeq: m.readSeq, delivered: m.deliveredSeq >= message.seq, read: m.readSeq >= message.seq };
        });
      return { message, receipts };
    },

    /**
     * Move the actor's delivered/read watermarks forward (never back; capped at the last seq; read implies
     * delivered). Emits `receipt.updated` with the senders whose messages changed status.
     */
    async markReceipts(actor: Actor, conversationId: string, input: ReceiptsInput): Promise<Watermarks> {
      const data = parseInput(receiptsSchema, input);
      const me = actor.user.id;
      await requireMember(db, conversationId, me);
      const result = await db.transaction().execute(async (trx) => {
        const rows = await convRepo.lockMembers(trx, conversationId);
        const members = rows.map(convRepo.rowToMember);
        const mine = members.find((m) => m.userId === me);
        const conv = await convRepo.findConversation(trx, conversationId);
        if (!mine || !conv) throw new NotFoundError('Conversation');
        const lastSeq = Number(conv.last_seq);
        const readSeq = Math.max(mine.readSeq, Math.min(data.readSeq ?? 0, lastSeq));
        const deliveredSeq = Math.max(mine.deliveredSeq, Math.min(data.deliveredSeq ?? 0, lastSeq), readSeq);
        const base = { conversationId, userId: me, deliveredSeq, readSeq, lastSeq };
        if (readSeq === mine.readSeq && deliveredSeq === mine.deliveredSeq) return { watermarks: base, event: null };
        await convRepo.setWatermarks(trx, conversationId, me, deliveredSeq, readSeq);
        const after = members.map((m) => (m.userId === me ? { ...m, deliveredSeq, readSeq } : m));
        // A sender's messages change status when the weakest watermark of everyone else moves past them.
        const floor = (list: Member[], senderId: string) => {
          const others = list.filter((m) => m.userId !== senderId);
          return { d: Math.min(...others.map((m) => m.deliveredSeq)), r: Math.min(...others.map((m) => m.readSeq)) };
        };
        const moved: SenderStatusChange[] = [];
        for (const senderId of await msgRepo.sendersInRange(trx, conversationId, Math.min(mine.readSeq, mine.deliveredSeq), deliveredSeq)) {
          if (senderId === me) continue;
          const was = floor(members, senderId);
          const now = floor(after, senderId);
          if (now.d !== was.d || now.r !== was.r) {
            moved.push({ userId: senderId, deliveredSeq: now.d, readSeq: now.r, previousDeliveredSeq: was.d, previousReadSeq: was.r });
          }
        }
        const affected = await msgRepo.sendersWithMessagesIn(
          trx,
          conversationId,
          moved.flatMap((s) => [
            { senderId: s.userId, lo: s.previousDeliveredSeq, hi: s.deliveredSeq },
            { senderId: s.userId, lo: s.previousReadSeq, hi: s.readSeq },
          ]),
        );
        const senders = moved.filter((s) => affected.has(s.userId));
        return {
          watermarks: base,
          event: {
            conversationId,
            readerId: me,
            deliveredSeq,
            readSeq,
            previousDeliveredSeq: mine.deliveredSeq,
            previousReadSeq: mine.readSeq,
            senders,
            memberIds: members.map((m) => m.userId),
          },
        };
      });
      if (result.event) {
        await events.emit('receipt.updated', result.event);
        wake(pubsub, logger, result.event.memberIds, { conversation_id: conversationId, kind: 'receipt' });
      }
      return result.watermarks;
    },

    /**
     * Changes (new, edited, deleted messages) of one conversation after `afterChangeSeq`, in change order.
     * Pass the returned `lastChangeSeq` next time. Throws NotFound for non-members.
     */
    async syncConversation(actor: Actor, conversationId: string, afterChangeSeq: number, limit = SYNC_LIMIT_DEFAULT): Promise<ConversationSync> {
      await requireMember(db, conversationId, actor.user.id);
      const after = Math.max(0, Math.floor(afterChangeSeq) || 0);
      const n = Math.min(Math.max(1, Math.floor(limit) || SYNC_LIMIT_DEFAULT), SYNC_LIMIT_MAX);
      const rows = await msgRepo.findChanges(db, conversationId, after, n + 1);
      const changes = rows.slice(0, n);
      return { conversationId, changes, hasMore: rows.length > n, lastChangeSeq: changes.at(-1)?.changeSeq ?? after };
    },

    /**
     * Catch-up across all the actor's conversations: each conversation whose change position is beyond
     * its cursor in `cursors` (conversation id → last change_seq seen; missing = 0), most recently active
     * first, at most `maxConversations` of them and `limit` changes each. `hasMore`: call again.
     */
    async syncAll(
      actor: Actor,
      cursors: Readonly<Record<string, number>>,
      opts: { limit?: number; maxConversations?: number } = {},
    ): Promise<{ conversations: ConversationSync[]; hasMore: boolean }> {
      const n = Math.min(Math.max(1, Math.floor(opts.limit ?? SYNC_LIMIT_DEFAULT) || SYNC_LIMIT_DEFAULT), SYNC_LIMIT_MAX);
      const maxConv = Math.max(1, Math.floor(opts.maxConversations ?? 50) || 50);
      const cursorOf = (id: string) => Math.max(0, Math.floor(Number(cursors[id] ?? 0)) || 0);
      const pending = (await convRepo.changePositionsForUser(db, actor.user.id))
        .filter((p) => Number(p.last_change_seq) > cursorOf(p.id))
        .sort((a, b) => b.activity.getTime() - a.activity.getTime());
      const picked = pending.slice(0, maxConv);
      const rows = await msgRepo.findChangesMany(db, picked.map((p) => ({ conversationId: p.id, after: cursorOf(p.id) })), n + 1);
      const by = new Map<string, Message[]>();
      for (const m of rows) {
        let list = by.get(m.conversationId);
        if (!list) by.set(m.conversationId, (list = []));
        list.push(m);
      }
      const conversations = picked.map((p) => {
        const all = by.get(p.id) ?? [];
        const changes = all.slice(0, n);
        return { conversationId: p.id, changes, hasMore: all.length > n, lastChangeSeq: changes.at(-1)?.changeSeq ?? cursorOf(p.id) };
      });
      return { conversations, hasMore: pending.length > picked.length || conversations.some((c) => c.hasMore) };
    },

    /** Wait for queued sends to commit (graceful shutdown). */
    drain: () => batcher.drain(),
  };
}

export type MessageService = ReturnType<typeof createMessageService>;
