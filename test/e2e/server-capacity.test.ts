// Capacity behaviour of `cosec serve` with one sequence slot and a queue of one: a client that
// disconnects frees its slot at once, a full queue answers 429 with Retry-After, SIGTERM drains.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";
import { sseData, startServer, type ServerProcess } from "./server-harness.ts";

let server: ServerProcess;
let client: OpenAI;
const LONG = 2000; // tokens: many seconds of decoding, far longer than any wait below

function post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal });
}

/** Starts a streamed completion and resolves once its first token arrived (it then holds the slot). */
async function startStream(maxTokens: number, signal?: AbortSignal) {
  const res = await post("/v1/completions", { prompt: "def handler(request):", max_tokens: maxTokens, stream: true, seed: 1 }, signal);
  assert.equal(res.status, 200);
  const events = sseData(res);
  const first = await events.next();
  assert.equal(first.done, false);
  return events;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  const m = line ? / ([\d.e+-]+)$/.exec(line) : null;
  return m ? Number(m[1]) : 0;
}

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const health = async () => (await (await fetch(`${server.url}/health`)).json()) as { running: number; queued: number };

describe("cosec serve capacity: --parallel 1 --queue 1", () => {
  before(async () => {
    server = await startServer(["--parallel", "1", "--queue", "1", "--max-tokens", String(LONG), "--context-size", "2304", "--shutdown-timeout", "30"]);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });

  after(async () => {
    await server?.stop();
  });

  test("a client that disconnects mid-stream frees its sequence at once", async () => {
    const abort = new AbortController();
    await startStream(LONG, abort.signal);
    abort.abort();
    const t0 = performance.now();
    // Only one slot: this can only run once the abandoned generation has given its slot back.
    const r = await client.completions.create({ model: "target-llama", prompt: "x", max_tokens: 4, seed: 2 });
    const waited = performance.now() - t0;
    assert.equal(r.choices[0].text.length > 0, true);
    assert.equal(await metric('cosec_samples_total{finish_reason="aborted"}'), 1);
    // The abandoned stream stopped long before its 2000 tokens.
    assert.ok((await metric('cosec_tokens_total{kind="completion"}')) < LONG / 4);
    assert.ok(waited < 5000, `the next request waited ${waited.toFixed(0)} ms`);
    assert.equal((await health()).running, 0);
  });

  test("a full queue answers 429 with Retry-After; the queued request runs when the slot frees", async () => {
    const abort = new AbortController();
    await startStream(LONG, abort.signal);
    const queued = client.completions.create({ model: "target-llama", prompt: "y", max_tokens: 3, seed: 3 });
    await waitFor("the second request to queue", async () => (await health()).queued === 1);
    try {
      await client.completions.create({ model: "target-llama", prompt: "z", max_tokens: 3 });
      assert.fail("expected 429");
    } catch (err) {
      assert.ok(err instanceof OpenAI.RateLimitError, String(err));
      assert.equal(err.status, 429);
      assert.equal(err.code, "queue_full");
      assert.ok(Number(err.headers.get("retry-after")) >= 1);
    }
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /cosec_queue_depth 1/);
    abort.abort();
    const r = await queued;
    assert.equal(r.choices.length, 1);
    assert.equal(await metric('cosec_rejected_requests_total{reason="queue_full"}'), 1);
  });

  test("SIGTERM: the running stream finishes, queued and new requests are refused, exit 0", async () => {
    const events = await startStream(120);
    const queued = post("/v1/completions", { prompt: "q", max_tokens: 3 });
    await waitFor("the second request to queue", async () => (await health()).queued === 1);
    server.child.kill("SIGTERM");
    const refused = await queued;
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "shutting_down");

    const rest: string[] = [];
    for await (const d of events) rest.push(d);
    assert.equal(rest.at(-1), "[DONE]");
    const last = JSON.parse(rest.at(-2)!) as { choices: { finish_reason: string; cosec: { tokens_by_source: Record<string, number> } }[] };
    assert.equal(last.choices[0].finish_reason, "length");
    const c = last.choices[0].cosec.tokens_by_source;
    assert.equal(c.expert + c.target + c.mixed, 120);

    const late = await post("/v1/completions", { prompt: "late", max_tokens: 1 }).then(
      (res) => res.status,
      () => "refused",
    );
    assert.ok(late === "refused" || late === 503, `a request after SIGTERM got ${late}`);
    assert.equal(await server.exited, 0, server.output());
    assert.doesNotMatch(server.output(), /"level":(50|60)/);
  });
});
