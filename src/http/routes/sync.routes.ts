/**
 * The stateless long-poll for clients without sockets: `GET /api/sync?cursor=…&timeout=…`. The cursor is
 * opaque to clients (it encodes the last change position seen per conversation), so any node can answer
 * any request: no sticky sessions. With news the answer is immediate; otherwise the request waits until a
 * change for the caller is announced on pub/sub (from any node, through Redis) or the timeout ends.
 */
import { z } from 'zod';
import type { AppContext } from '../../app-context.ts';
import { userChannel } from '../../domain/messaging/messaging.events.ts';
import type { ConversationSync } from '../../domain/messaging/messaging.types.ts';
import { BadRequestError } from '../../errors.ts';
import type { Api } from '../api.ts';
import { messageSchema, presentMessage } from '../presenters/messaging.ts';

const CURSOR_VERSION = 1;
const INITIAL_CONVERSATIONS = 100;

const cursorSchema = z.object({ v: z.literal(CURSOR_VERSION), c: z.record(z.uuid(), z.number().int().min(0)) });

/** Decode a cursor; throws BadRequestError `invalid_cursor`. */
export function decodeCursor(cursor: string): Record<string, number> {
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data.c;
  } catch {
    // fall through
  }
  throw new BadRequestError('invalid_cursor', 'The cursor is not one this server issued');
}

export function encodeCursor(positions: Record<string, number>): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, c: positions })).toString('base64url');
}

const syncResponse = z
  .object({
    cursor: z.string().meta({ description: 'Pass as `cursor` on the next call' }),
    conversations: z.array(
      z.object({
        conversation_id: z.uuid(),
        changes: z.array(messageSchema).meta({ description: 'New, edited and deleted messages, in change_seq order' }),
        has_more: z.boolean(),
        last_change_seq: z.number().int(),
      }),
    ),
    has_more: z.boolean().meta({ description: 'More changes remain: call again at once with the new cursor' }),
  })
  .meta({ id: 'SyncResponse' });

export function registerSyncRoutes(api: Api, app: AppContext): void {
  const { messages, conversations } = app.services;
  const maxWait = app.config.realtime.longPollMaxMs;
  const limiter = app.limiters({ name: 'sync', points: 300, duration: 60 });

  api.route({
    method: 'get',
    path: '/api/sync',
    summary: 'Long-poll for changes in my conversations (stateless: any node answers)',
    description:
      'Without `cursor`: returns at once with a cursor at the current position of every conversation (load history over REST first). ' +
      `With \`cursor\`: returns at once when any conversation changed after it, otherwise waits up to \`timeout\` milliseconds (at most ${maxWait}) for a change. ` +
      'Store the returned `cursor` and pass it next time; while `has_more` is true call again without waiting.',
    tags: ['realtime'],
    auth: { scope: 'read:messages' },
    query: z.object({
      cursor: z.string().min(1).max(100_000).optional(),
      timeout: z.coerce.number().int().min(0).max(maxWait).default(0),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
    response: syncResponse,
    errors: { 429: 'Too many sync calls' },
    handler: async (ctx, { query, actor }) => {
      await limiter.consume(actor.user.id);
      if (!query.cursor) {
        const page = await conversations.list(actor, { page: 1, pageSize: INITIAL_CONVERSATIONS });
        return { cursor: encodeCursor(Object.fromEntries(page.items.map((c) => [c.id, c.lastChangeSeq]))), conversations: [], has_more: false };
      }
      const positions = decodeCursor(query.cursor);
      let woken: () => void = () => undefined;
      let wake = new Promise<void>((r) => (woken = r));
      // Subscribe before looking, so a change committed in between still wakes this request.
      const off = await app.pubsub.subscribe(userChannel(actor.user.id), () => woken());
      const closed = new Promise<void>((r) => ctx.req.once('close', () => r()));
      const deadline = Date.now() + query.timeout;
      let result: { conversations: ConversationSync[]; hasMore: boolean };
      try {
        for (;;) {
          result = await messages.syncAll(actor, positions, { limit: query.limit });
          const left = deadline - Date.now();
          if (result.conversations.some((c) => c.changes.length > 0) || left <= 0 || ctx.req.destroyed) break;
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([wake, closed, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
          clearTimeout(timer);
          wake = new Promise<void>((r) => (woken = r));
        }
      } finally {
        off();
      }
      for (const c of result.conversations) positions[c.conversationId] = c.lastChangeSeq;
      return {
        cursor: encodeCursor(positions),
        conversations: result.conversations
          .filter((c) => c.changes.length > 0)
          .map((c) => ({ conversation_id: c.conversationId, changes: c.changes.map(presentMessage), has_more: c.hasMore, last_change_seq: c.lastChangeSeq })),
        has_more: result.hasMore,
      };
    },
  });
}
