/**
 * The socket population shared by S1–S3: users 0…N-1, rooms of 10 (users 10k…10k+9), one big room (users
 * 0…bigRoom-1). The baseline gets the same membership through its handshake auth; the product gets real
 * users, conversations and access tokens made through its own services (fixtures), so its sockets join
 * the same rooms by themselves.
 */
import type { BenchContext } from '../lib/context.ts';

export interface ClientSpec {
  auth?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface RoomSpec {
  id: string | number;
  members: number[];
}

export interface Population {
  /** Specs for clients 0…count-1. */
  clients(count: number): ClientSpec[];
  rooms10: RoomSpec[];
  big: RoomSpec;
}

/** What the SUT's `population` fixture returns. */
export interface SutPopulation {
  tokens: string[];
  rooms10: Array<string | number>;
  big: string | number;
}

export function populationSize(ctx: BenchContext): number {
  const p = ctx.profile;
  return Math.max(p.s1.rooms10 * 10, p.s1.bigRoom, ...p.s3.steps);
}

function shape(ctx: BenchContext, ids10: Array<string | number>, bigId: string | number) {
  const p = ctx.profile;
  const rooms10: RoomSpec[] = ids10.map((id, r) => ({ id, members: Array.from({ length: 10 }, (_, k) => r * 10 + k) }));
  const big: RoomSpec = { id: bigId, members: Array.from({ length: p.s1.bigRoom }, (_, k) => k) };
  return { rooms10, big };
}

/** The baseline's view: ids are plain strings, membership travels in the handshake. */
export function baselinePopulation(ctx: BenchContext): Population {
  const p = ctx.profile;
  const ids10 = Array.from({ length: p.s1.rooms10 }, (_, r) => `r${r}`);
  const { rooms10, big } = shape(ctx, ids10, 'big');
  return {
    rooms10,
    big,
    clients: (count) =>
      Array.from({ length: count }, (_, i) => {
        const rooms: string[] = [];
        if (i < p.s1.rooms10 * 10) rooms.push(`r${Math.floor(i / 10)}`);
        if (i < p.s1.bigRoom) rooms.push('big');
        return { auth: { user: i, rooms } };
      }),
  };
}

/** The product's view, from its fixtures (null when the build cannot serve sockets yet). */
export async function sutPopulation(ctx: BenchContext, sut: { call<T>(m: string, p?: unknown, t?: number): Promise<T> }): Promise<Population | null> {
  if (!ctx.features.realtime || !ctx.features.oauth) return null;
  let pop = ctx.fixtures.population as SutPopulation | undefined;
  if (!pop) {
    const p = ctx.profile;
    ctx.log(`creating ${populationSize(ctx)} users, ${p.s1.rooms10} rooms of 10 and a room of ${p.s1.bigRoom} in the SUT`);
    pop = await sut.call<SutPopulation>('population', { users: populationSize(ctx), rooms10: p.s1.rooms10, bigRoom: p.s1.bigRoom, tag: ctx.id }, 900_000);
    ctx.fixtures.population = pop;
  }
  const { rooms10, big } = shape(ctx, pop.rooms10, pop.big);
  const tokens = pop.tokens;
  return {
    rooms10,
    big,
    clients: (count) => Array.from({ length: count }, (_, i) => ({ auth: { token: tokens[i % tokens.length]! } })),
  };
}
