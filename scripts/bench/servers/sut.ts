/**
 * The system under test: the product's own composition root (`createServer`), configured from the
 * environment exactly as `npm start` is (the orchestrator sets NODE_ENV=production, DATABASE_URL,
 * REDIS_URL, its own DATABASE_SCHEMA and REDIS_PREFIX). The IPC channel adds what a benchmark needs and a
 * production process does not expose: memory after a forced GC, and fixtures (users, tokens,
 * conversations, devices) created through the same domain services the API calls.
 */
import { loadConfig } from '../../../src/config.ts';
import { createServer } from '../../../src/server.ts';
import { fixtureHandlers } from '../fixtures.ts';
import { serveRpc } from '../lib/proc.ts';
import { memorySample } from './memory.ts';

const config = loadConfig();
const server = await createServer(config);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await server.close().catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', () => void stop());

serveRpc(
  {
    mem: () => memorySample(),
    ...fixtureHandlers(server),
  },
  { url: server.url },
);
