// Load benchmark of `cosec serve` (not a test): starts the server as a child process on loopback,
// drives it from this process with C concurrent streaming clients for R requests in total, and
// reports throughput, time to first token and per-token latency (p50/p99), errors by kind, and
// the server's RSS before and after the run.
//
//   node --import tsx bench/server.ts [--requests 200] [--concurrency 16] [--max-tokens 16]
//        [--parallel 4] [--queue 16] [--target T.gguf --expert E.gguf [--expert-lora A.gguf]]
//        [--strategy cosec-plus] [--sequential] [--json out.json]
// Without --target it uses the tiny test-fixture models.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repoRoot } from "../src/paths.ts";
import { ensureFixtures } from "../test/helpers/fixtures.ts";

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

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

async function startServer(): Promise<{ url: string; pid: number; stop: () => Promise<number | null> }> {
  let models: string[];
  if (values.target) {
    models = ["--target", values.target];
    if (values.expert) models.push("--expert", values.expert);
    if (values["expert-lora"]) models.push("--expert-lora", values["expert-lora"]);
  } else {
    const f = await ensureFixtures();
    models = ["--target", f.targetLlama, "--expert", f.expertLlama, "--expert-lora", f.expertLlamaLora];
  }
  const args = [
    join(repoRoot, "bin", "cosec.mjs"),
    "serve",
    ...models,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--parallel",
    values.parallel!,
    "--queue",
    values.queue!,
    "--context-size",
    values["context-size"]!,
    "--log-level",
    "warn",
    ...(values.strategy ? ["--strategy", values.strategy] : []),
    ...(values.sequential ? ["--sequential"] : []),
  ];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout.on("data", check);
    void exited.then((code) => reject(new Error(`server exited (${code}):\n${out}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

interface Outcome {
  kind: string;
  ttftMs?: number;
  gapsMs: number[];
  tokens: number;
}

const PROMPTS = ["def read_file(path):", "import sqlite3\n\ndef find_user(db, name):", "#include <stdio.h>\nint main(void) {", "app = Flask(__name__)\n"];

async function oneRequest(url: string, i: number): Promise<Outcome> {
  const t0 = performance.now();
  let res: Response;
  try {
    res = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        prompt: PROMPTS[i % PROMPTS.length],
        max_tokens: MAX_TOKENS,
        seed: i,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
  } catch (err) {
    return { kind: `network: ${(err as Error).message}`, gapsMs: [], tokens: 0 };
  }
  if (res.status !== 200) {
    await res.arrayBuffer();
    return { kind: `http ${res.status}`, gapsMs: [], tokens: 0 };
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let ttft: number | undefined;
  let last = 0;
  const gaps: number[] = [];
  let tokens = 0;
  let done = false;
  let streamError: string | null = null;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      buf += decoder.decode(r.value, { stream: true });
      let k: number;
      while ((k = buf.indexOf("\n\n")) >= 0) {
        const line = buf.slice(0, k);
        buf = buf.slice(k + 2);
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        const chunk = JSON.parse(data) as { error?: { code: string }; choices: { text: string }[]; usage?: { completion_tokens: number } };
        if (chunk.error) streamError = chunk.error.code;
        if (chunk.usage) tokens = chunk.usage.completion_tokens;
        if (chunk.choices.some((c) => c.text.length > 0)) {
          const now = performance.now();
          if (ttft === undefined) ttft = now - t0;
          else gaps.push(now - last);
          last = now;
        }
      }
    }
  } catch (err) {
    return { kind: `stream broken: ${(err as Error).message}`, gapsMs: gaps, tokens };
  }
  if (streamError) return { kind: `stream error ${streamError}`, gapsMs: gaps, tokens };
  if (!done) return { kind: "no [DONE]", gapsMs: gaps, tokens };
  return { kind: "ok", ttftMs: ttft, gapsMs: gaps, tokens };
}

const server = await startServer();
const rssStart = rssKiB(server.pid);
// Warm-up: let allocators, JIT and KV caches reach their working size before the "before" figure.
await Promise.all(Array.from({ length: Number(values.parallel) }, (_, i) => oneRequest(server.url, 1000 + i)));
const rssBefore = rssKiB(server.pid);

const outcomes: Outcome[] = [];
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) outcomes.push(await oneRequest(server.url, next++));
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
