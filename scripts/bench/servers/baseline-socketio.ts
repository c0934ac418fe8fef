/**
 * Baseline B1 (and B2 with BENCH_ADAPTER=redis): a raw Socket.IO server of the same version as the product,
 * with no database. A socket joins `user:<user>` and the rooms named in its handshake auth; `message:send`
 * is acknowledged and broadcast to its room as `message:new` with the same shape the product sends.
 * Started and driven by scripts/bench/run.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { serveRpc } from '../lib/proc.ts';
import { memorySample } from './memory.ts';

const adapterMode = process.env.BENCH_ADAPTER ?? 'memory';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = process.env.BENCH_REDIS_PREFIX ?? `bench:b2:${process.pid}:`;

const server = http.createServer();
const io = new Server(server, { serveClient: false });
const redis: Redis[] = [];
if (adapterMode === 'redis') {
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  redis.push(pub, sub);
  io.adapter(createShardedAdapter(pub, sub, { channelPrefix: `${prefix}sio`, subscriptionMode: 'dynamic' }));
}

interface SendPayload {
  conversation?: unknown;
  body?: unknown;
  client_msg_id?: unknown;
}

const seqs = new Map<string, number>();
let nextId = 0;

io.on('connection', (socket) => {
  const auth = socket.handshake.auth as { user?: unknown; rooms?: unknown };
  const rooms = Array.isArray(auth.rooms) ? auth.rooms.map(String) : [];
  socket.join([`user:${String(auth.user ?? socket.id)}`, ...rooms.map((r) => `conversation:${r}`)]);
  socket.on('message:send', (p: SendPayload, ack?: (r: unknown) => void) => {
    if (!p || typeof p.body !== 'string' || p.conversation === undefined) {
      ack?.({ error: { code: 'validation_error', message: 'bad payload' } });
      return;
    }
    const conversation = String(p.conversation);
    const seq = (seqs.get(conversation) ?? 0) + 1;
    seqs.set(conversation, seq);
    const message = {
      message_id: ++nextId,
      conversation: p.conversation,
      seq,
      sender: auth.user ?? null,
      client_msg_id: p.client_msg_id ?? null,
      message_body: p.body,
      sent_at: new Date().toISOString(),
      edited_at: null,
    };
    ack?.({ data: { message_id: message.message_id, seq, sent_at: message.sent_at } });
    io.to(`conversation:${conversation}`).emit('message:new', message);
  });
});

await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;

process.on('SIGTERM', () => {
  io.close();
  for (const r of redis) r.disconnect();
  process.exit(0);
});

serveRpc(
  {
    mem: () => memorySample(),
    sockets: () => io.engine.clientsCount,
  },
  { url: `http://127.0.0.1:${port}`, adapter: adapterMode },
);
