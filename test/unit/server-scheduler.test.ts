import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiRequestError } from "../../src/errors.ts";
import { QueueFullError, Scheduler } from "../../src/server/scheduler.ts";

const tick = () => new Promise((r) => setImmediate(r));

test("grants up to capacity at once, queues the rest FIFO, refuses beyond the queue", async () => {
  const s = new Scheduler(2, 2);
  const a = await s.acquire(1);
  const b = await s.acquire(1);
  assert.equal(s.slotsInUse, 2);
  const order: string[] = [];
  const c = s.acquire(2).then((l) => (order.push("c"), l));
  const d = s.acquire(1).then((l) => (order.push("d"), l));
  assert.equal(s.queued, 2);
  await assert.rejects(s.acquire(1), (err: unknown) => err instanceof QueueFullError && err.status === 429 && err.retryAfterSeconds >= 1);
  a.release();
  await tick();
  // c needs two slots: d (one slot) must not overtake it.
  assert.deepEqual(order, []);
  b.release();
  const lc = await c;
  assert.deepEqual(order, ["c"]);
  lc.release();
  lc.release(); // idempotent
  (await d).release();
  assert.equal(s.slotsInUse, 0);
  assert.equal(s.active, 0);
});

test("a waiter whose signal aborts leaves the queue and lets the next one run", async () => {
  const s = new Scheduler(1, 4);
  const held = await s.acquire(1);
  const ac = new AbortController();
  const gone = s.acquire(1, ac.signal);
  const next = s.acquire(1);
  ac.abort(new Error("client left"));
  await assert.rejects(gone, /client left/);
  assert.equal(s.queued, 1);
  held.release();
  (await next).release();
  assert.equal(s.slotsInUse, 0);
});

test("close refuses queued and new requests with 503, running leases continue", async () => {
  const s = new Scheduler(1, 4);
  const held = await s.acquire(1);
  const waiting = s.acquire(1);
  s.close();
  await assert.rejects(waiting, (e: unknown) => e instanceof ApiRequestError && e.status === 503 && e.code === "shutting_down");
  await assert.rejects(s.acquire(1), (e: unknown) => e instanceof ApiRequestError && e.status === 503);
  held.release();
  assert.equal(s.slotsInUse, 0);
});

test("requests larger than capacity and a zero-length queue", async () => {
  const s = new Scheduler(2, 0);
  await assert.rejects(s.acquire(3), RangeError);
  const l = await s.acquire(2);
  await assert.rejects(s.acquire(1), QueueFullError);
  l.release();
  assert.throws(() => new Scheduler(0, 1), RangeError);
});
