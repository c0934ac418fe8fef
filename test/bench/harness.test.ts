/**
 * The benchmark harness's own pieces, so `npm run bench` cannot rot unnoticed: the statistics (median,
 * paired ratios, slope, knee search, saturation rule), the latency stamp and status parsing, histogram
 * round trips, the report table, and a short smoke of the baselines and the load generator (counts only,
 * no timing assertions).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { io as ioClient } from 'socket.io-client';
import { EioSocket, eventName, eventPayload } from '../../scripts/bench/loadgen/eio-client.ts';
import { deliveredUpTo, readStamp, stampedBody } from '../../scripts/bench/loadgen/protocol.ts';
import { decode, encode, mergeEncoded, newHistogram, recordMs, summarize } from '../../scripts/bench/lib/hist.ts';
import { startChild, type Child } from '../../scripts/bench/lib/proc.ts';
import { markdownTable } from '../../scripts/bench/lib/report.ts';
import {
  generatorDisturbance,
  generatorSaturation,
  knee,
  median,
  nextKneeRate,
  pairedRatios,
  slope,
  stepPasses,
  type KneePlan,
  type StepResult,
} from '../../scripts/bench/lib/stats.ts';

const BENCH = path.resolve(import.meta.dirname, '../../scripts/bench');

describe('statistics', () => {
  test('median of odd, even, empty and non-finite input', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([]), null);
    assert.equal(median([NaN, 5, Infinity]), 5);
  });

  test('paired ratios divide run i by run i and drop incomplete pairs', () => {
    const r = pairedRatios([80, 90, null, 50], [100, 100, 100, 0]);
    assert.deepEqual(r.pairs, [0.8, 0.9]);
    assert.equal(r.min, 0.8);
    assert.equal(r.max, 0.9);
    assert.ok(Math.abs(r.median! - 0.85) < 1e-9);
    assert.equal(pairedRatios([], []).median, null);
  });

  test('least-squares slope recovers bytes per socket', () => {
    const xs = [0, 1000, 2000, 3000];
    const ys = xs.map((x) => 50_000_000 + 9_500 * x + (x === 2000 ? 1000 : 0));
    assert.ok(Math.abs(slope(xs, ys)! - 9_500) < 1);
    assert.equal(slope([5], [1]), null);
    assert.equal(slope([2, 2], [1, 3]), null);
  });

  test('knee search ramps, then bisects, within its step budget, and finds the last passing rate', () => {
    const plan: KneePlan = { start: 100, factor: 2, maxRate: 100_000, maxSteps: 12, resolution: 0.05 };
    // A server that keeps up to 1,000 messages/s (9 deliveries each).
    const serve = (rate: number): StepResult => ({
      rate,
      deliveredRatio: rate <= 1000 ? 1 : 0.97,
      p99Ms: rate <= 1000 ? 20 : 900,
      deliveriesPerSec: Math.min(rate, 1000) * 9,
    });
    const history: StepResult[] = [];
    let rate: number | null;
    while ((rate = nextKneeRate(history, plan)) !== null) history.push(serve(rate));
    assert.ok(history.length <= plan.maxSteps);
    assert.deepEqual(
      history.slice(0, 5).map((s) => s.rate),
      [100, 200, 400, 800, 1600],
    );
    const k = knee(history)!;
    assert.ok(k.rate <= 1000 && k.rate >= 900, `knee at ${k.rate}`);
    // All steps fail: probe downwards and stop at the floor.
    const failing: StepResult[] = [];
    while ((rate = nextKneeRate(failing, plan)) !== null) failing.push({ rate, deliveredRatio: 0, p99Ms: 1e6, deliveriesPerSec: 0 });
    assert.equal(knee(failing), null);
    assert.ok(failing.length <= plan.maxSteps);
    // Never exceeds maxRate.
    const capped: StepResult[] = [];
    const small = { ...plan, maxRate: 300 };
    while ((rate = nextKneeRate(capped, small)) !== null) capped.push(serve(rate));
    assert.deepEqual(
      capped.map((s) => s.rate),
      [100, 200, 300],
    );
  });

  test('a step fails on loss, on p99 over 250 ms, or when the generator saturated', () => {
    const ok: StepResult = { rate: 1, deliveredRatio: 0.9995, p99Ms: 249, deliveriesPerSec: 1 };
    assert.equal(stepPasses(ok), true);
    assert.equal(stepPasses({ ...ok, deliveredRatio: 0.998 }), false);
    assert.equal(stepPasses({ ...ok, p99Ms: 251 }), false);
    assert.equal(stepPasses({ ...ok, invalid: true }), false);
  });

  test('generator saturation and disturbance rules', () => {
    assert.equal(generatorSaturation({ cpu: 0.5, eventLoopP99Ms: 3 }), null);
    assert.match(generatorSaturation({ cpu: 0.95, eventLoopP99Ms: 3 })!, /CPU 95%/);
    assert.equal(generatorDisturbance({ cpu: 0.2, eventLoopP99Ms: 5, maxLagMs: 10 }), null);
    assert.match(generatorDisturbance({ cpu: 0.2, eventLoopP99Ms: 40, maxLagMs: 80 })!, /event-loop p99 40.0 ms.*80 ms behind/);
  });
});

describe('frames and histograms', () => {
  test('the latency stamp survives JSON framing and padding', () => {
    const body = stampedBody(1795270000123.456, 42, 200);
    assert.equal(body.length, 200);
    const frame = `42${JSON.stringify(['message:new', { conversation: 'c1', seq: 7, message_body: body }])}`;
    assert.deepEqual(readStamp(frame), [1795270000123.456, 42]);
    assert.equal(readStamp('42["message:new",{"message_body":"plain"}]'), null);
    assert.equal(eventName(frame), 'message:new');
    assert.equal(eventName('421["message:send",{}]'), 'message:send');
    assert.deepEqual((eventPayload(frame) as { seq: number }).seq, 7);
  });

  test('delivered watermarks from message:status, in both accepted shapes', () => {
    assert.deepEqual(deliveredUpTo({ conversation: 'c', status: 'delivered', up_to_seq: 9 }), [['c', 9]]);
    assert.deepEqual(deliveredUpTo({ conversation_id: 3, delivered_seq: 4 }), [['3', 4]]);
    assert.deepEqual(
      deliveredUpTo({ conversation: 'c', messages: [{ seq: 2, status: 'delivered' }, { seq: 5, status: 'read' }, { seq: 6, status: 'sent' }] }),
      [['c', 5]],
    );
    assert.deepEqual(deliveredUpTo({ conversation: 'c', status: 'sent', seq: 3 }), []);
    assert.deepEqual(deliveredUpTo({ seq: 3 }), []);
  });

  test('histograms record milliseconds, round-trip through base64 and merge', () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 1; i <= 100; i++) recordMs(a, i);
    recordMs(b, 1000);
    const merged = mergeEncoded([encode(a), encode(b)]);
    assert.equal(merged.totalCount, 101);
    const s = summarize(merged);
    assert.ok(Math.abs(s.p50 - 51) < 0.1, `p50 ${s.p50}`);
    assert.ok(Math.abs(s.max - 1000) < 1, `max ${s.max}`);
    assert.equal(summarize(decode(encode(newHistogram()))).count, 0);
  });

  test('the report table renders ratios, targets and flags', () => {
    const md = markdownTable([
      { scenario: 'S4', metric: 'GET', unit: 'req/s', ours: 12000, baseline: 20000, baselineName: 'bare Koa', ratio: pairedRatios([12000, 11000], [20000, 20000]), target: '≥ 0.6×', met: false },
      { scenario: 'S2', metric: 'p99', unit: 'ms', ours: 3.14159, baseline: null, baselineName: null, ratio: null, invalid: 'generator CPU 99%' },
    ]);
    assert.match(md, /\| S4 \| GET \(req\/s\) \| 12,000 \| 20,000 \(bare Koa\) \| 0\.57× \[0\.55–0\.60\] \| ≥ 0\.6× \| \*\*no\*\* \|/);
    assert.match(md, /\| S2 \| p99 \(ms\) \| 3\.14 \| – \| – \|  \|  \| INVALID: generator CPU 99% \|/);
  });
});

describe('baselines and generator (smoke)', () => {
  let sio: Child;
  let koa: Child;
  let gen: Child;
  before(async () => {
    [sio, koa, gen] = await Promise.all([
      startChild({ name: 'b1', script: path.join(BENCH, 'servers/baseline-socketio.ts'), execArgv: ['--expose-gc'] }),
      startChild({ name: 'koa', script: path.join(BENCH, 'servers/baseline-http.ts'), env: { BENCH_HTTP: 'koa' } }),
      startChild({ name: 'loadgen', script: path.join(BENCH, 'loadgen/main.ts') }),
    ]);
  });
  after(async () => {
    await Promise.all([sio?.stop(), koa?.stop(), gen?.stop()]);
  });

  test('the minimal Engine.IO client and socket.io-client see the same deliveries and acks', async () => {
    const url = sio.info.url as string;
    const raw = new EioSocket();
    await raw.connect({ url, auth: { user: 1, rooms: ['r'] } });
    const official = ioClient(url, { transports: ['websocket'], auth: { user: 2, rooms: ['r'] }, reconnection: false });
    await new Promise<void>((resolve, reject) => {
      official.once('connect', resolve);
      official.once('connect_error', reject);
    });
    const rawSeen: number[] = [];
    const officialSeen: number[] = [];
    raw.onEvent = (frame) => {
      if (eventName(frame) === 'message:new') rawSeen.push((eventPayload(frame) as { seq: number }).seq);
    };
    official.on('message:new', (m: { seq: number }) => officialSeen.push(m.seq));
    const acks: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => raw.emit('message:send', { conversation_id: 'r', body: stampedBody(Date.now(), 1, 50) }, (a) => (acks.push(a), resolve())));
      acks.push(await official.emitWithAck('message:send', { conversation_id: 'r', body: 'hello' }));
    }
    for (let i = 0; i < 100 && (rawSeen.length < 10 || officialSeen.length < 10); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(rawSeen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(officialSeen, rawSeen);
    assert.equal(acks.length, 10);
    assert.ok(acks.every((a) => typeof (a as { data?: { seq?: number } }).data?.seq === 'number'));
    const bad = await official.emitWithAck('message:send', { conversation_id: 'r' });
    assert.equal((bad as { error: { code: string } }).error.code, 'validation_failed');
    raw.close();
    official.close();
  });

  test('bare Koa serves exactly the bytes it is given', async () => {
    const body = JSON.stringify({ status: 'success', messages: [] });
    await koa.call('setRoutes', [{ method: 'POST', path: '/api/poll-messages/', status: 200, contentType: 'application/json', body }]);
    const res = await fetch(`${koa.info.url}/api/poll-messages/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"messagesRead":[]}' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), body);
    assert.equal((await fetch(`${koa.info.url}/elsewhere`)).status, 404);
  });

  test('the generator delivers every message of a short low-rate fan-out and reports its health', async () => {
    const clients = Array.from({ length: 20 }, (_, i) => ({ auth: { user: i, rooms: [`g${Math.floor(i / 10)}`] } }));
    const conn = await gen.call<{ connected: number }>('connect', { url: sio.info.url, clients });
    assert.equal(conn.connected, 20);
    const rooms = [0, 1].map((r) => ({ id: `g${r}`, members: Array.from({ length: 10 }, (_, k) => r * 10 + k) }));
    const r = await gen.call<{ windowSends: number; expected: number; delivered: number; acked: number; ackErrors: number; hist: { deliver: string }; health: { cpu: number } }>('fanout', {
      rooms,
      rate: 40,
      warmupMs: 100,
      measureMs: 500,
      drainMs: 5000,
      bodyBytes: 200,
      tag: 'smoke',
    });
    assert.ok(r.windowSends > 0);
    assert.equal(r.expected, r.windowSends * 9);
    assert.equal(r.delivered, r.expected);
    assert.equal(r.ackErrors, 0);
    assert.equal(decode(r.hist.deliver).totalCount, r.delivered);
    assert.equal(typeof r.health.cpu, 'number');
    const mem = await sio.call<{ heapUsed: number; gc: boolean }>('mem');
    assert.equal(mem.gc, true);
    assert.ok(mem.heapUsed > 0);
    assert.deepEqual(await gen.call('closeAll'), { closed: 20 });
  });
});
