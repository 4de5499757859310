// Load benchmark of `cosec serve` (not a test): starts the server as a child process on loopback,
// drives it from this process with C concurrent streaming clients for R requests in total, and
// reports throughput, time to first token and per-token latency (p50/p99), errors by kind, and
// the server's RSS before and after the run.
//
//   node --import tsx bench/server.ts [--requests 200] [--concurrency 16] [--max-tokens 16]
//        [--parallel 4] [--queue 16] [--target T.gguf --expert E.gguf [--expert-lora A.gguf]]
//        [--strategy cosec-plus] [--sequential] [--json out.json]
// Without --target it uses the tiny test-fixture models.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { oneRequest, quantile, rssKiB, startServer, type Outcome } from "./lib/server-harness.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "200" },
    concurrency: { type: "string", default: "16" },
    "max-tokens": { type: "string", default: "16" },
    parallel: { type: "string", default: "4" },
    queue: { type: "string", default: "16" },
    target: { type: "string" },
    expert: { type: "string" },
    "expert-lora": { type: "string" },
    strategy: { type: "string" },
    sequential: { type: "boolean" },
    "context-size": { type: "string", default: "512" },
    json: { type: "string" },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const MAX_TOKENS = Number(values["max-tokens"]);

const server = await startServer({ target: values.target, expert: values.expert, expertLora: values["expert-lora"] }, [
  "--parallel", values.parallel!, "--queue", values.queue!, "--context-size", values["context-size"]!,
  ...(values.strategy ? ["--strategy", values.strategy] : []),
  ...(values.sequential ? ["--sequential"] : []),
]);
const rssStart = rssKiB(server.pid);
// Warm-up: let allocators, JIT and KV caches reach their working size before the "before" figure.
await Promise.all(Array.from({ length: Number(values.parallel) }, (_, i) => oneRequest(server.url, 1000 + i, MAX_TOKENS)));
const rssBefore = rssKiB(server.pid);

const outcomes: Outcome[] = [];
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) outcomes.push(await oneRequest(server.url, next++, MAX_TOKENS));
  }),
);
const seconds = (performance.now() - t0) / 1000;
const rssAfter = rssKiB(server.pid);
const exitCode = await server.stop();

const ok = outcomes.filter((o) => o.kind === "ok");
const errors: Record<string, number> = {};
for (const o of outcomes) if (o.kind !== "ok") errors[o.kind] = (errors[o.kind] ?? 0) + 1;
const ttft = ok.map((o) => o.ttftMs!).filter((x) => x !== undefined);
const gaps = ok.flatMap((o) => o.gapsMs);
const tokens = outcomes.reduce((a, o) => a + o.tokens, 0);
const report = {
  requests: REQUESTS,
  concurrency: CONCURRENCY,
  maxTokens: MAX_TOKENS,
  parallel: Number(values.parallel),
  queue: Number(values.queue),
  seconds: Number(seconds.toFixed(2)),
  ok: ok.length,
  errors,
  requestsPerSecond: Number((outcomes.length / seconds).toFixed(2)),
  completionTokensPerSecond: Number((tokens / seconds).toFixed(1)),
  ttftMs: { p50: Number(quantile(ttft, 0.5).toFixed(1)), p99: Number(quantile(ttft, 0.99).toFixed(1)) },
  perTokenMs: { p50: Number(quantile(gaps, 0.5).toFixed(2)), p99: Number(quantile(gaps, 0.99).toFixed(2)) },
  serverRssMiB: {
    start: Number((rssStart / 1024).toFixed(1)),
    before: Number((rssBefore / 1024).toFixed(1)),
    after: Number((rssAfter / 1024).toFixed(1)),
    growthPercent: Number((((rssAfter - rssBefore) / rssBefore) * 100).toFixed(1)),
  },
  serverExitCode: exitCode,
};
console.log(JSON.stringify(report, null, 2));
const nonRateLimit = Object.keys(errors).filter((k) => k !== "http 429");
console.log(
  `goal: no errors besides 429 → ${nonRateLimit.length === 0 ? "met" : `NOT met (${nonRateLimit.join(", ")})`}; ` +
    `RSS growth < 10% → ${report.serverRssMiB.growthPercent < 10 ? "met" : "NOT met"}`,
);
if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2) + "\n");
