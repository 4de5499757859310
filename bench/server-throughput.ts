// Server throughput by concurrency (not a test): for each decoding mode (target alone, cosec-plus
// sequential, cosec-plus speculative) one `cosec serve` child on loopback, driven by C streaming
// clients for R requests at each concurrency in turn; completion tokens/s per mode and concurrency,
// and each co-decoding mode's ratio to the target alone at the same concurrency. Concurrent requests'
// passes are merged into one batch per model by the backend's queue (src/backend/llama-backend.ts),
// so a speculative round of one request can verify beside another's.
//
//   node --import tsx bench/server-throughput.ts [--concurrency 1,4,8] [--requests 24] [--max-tokens 64]
//        [--target T.gguf --expert E.gguf [--expert-lora A.gguf]]   (default: the shipped demo family)
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SHIPPED_DIR } from "../src/demo/shipped.ts";
import { oneRequest, startServer, type ServerModels } from "./lib/server-harness.ts";

const { values } = parseArgs({
  options: {
    concurrency: { type: "string", default: "1,4,8" },
    requests: { type: "string", default: "24" },
    "max-tokens": { type: "string", default: "64" },
    target: { type: "string" },
    expert: { type: "string" },
    "expert-lora": { type: "string" },
  },
});
const levels = values.concurrency!.split(",").map(Number);
const REQUESTS = Number(values.requests);
const MAX_TOKENS = Number(values["max-tokens"]);
const models: ServerModels = values.target
  ? { target: values.target, expert: values.expert, expertLora: values["expert-lora"] }
  : { target: join(SHIPPED_DIR, "target.gguf"), expert: join(SHIPPED_DIR, "expert.gguf"), expertLora: join(SHIPPED_DIR, "expert-security-lora.gguf") };

const MODES: [string, string[]][] = [
  ["target alone", ["--strategy", "target"]],
  ["cosec-plus sequential", ["--strategy", "cosec-plus", "--sequential"]],
  ["cosec-plus speculative", ["--strategy", "cosec-plus"]],
];

/** Completion tokens per second with `concurrency` clients sharing `REQUESTS` requests. */
async function throughput(url: string, concurrency: number): Promise<{ tps: number; failed: number }> {
  let next = 0;
  let tokens = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < REQUESTS) {
        const o = await oneRequest(url, next++, MAX_TOKENS);
        tokens += o.tokens;
        if (o.kind !== "ok") failed++;
      }
    }),
  );
  return { tps: (tokens * 1000) / (performance.now() - t0), failed };
}

const max = Math.max(...levels);
const table = new Map<string, number[]>();
for (const [name, flags] of MODES) {
  const server = await startServer(models, ["--parallel", String(max), "--queue", String(REQUESTS), "--context-size", "512", ...flags]);
  try {
    // Warm-up at the highest concurrency: allocators, JIT, the engine's learned costs.
    await Promise.all(Array.from({ length: max }, (_, i) => oneRequest(server.url, 1000 + i, MAX_TOKENS)));
    const row: number[] = [];
    for (const c of levels) {
      const r = await throughput(server.url, c);
      if (r.failed) throw new Error(`${name}, concurrency ${c}: ${r.failed} request(s) failed`);
      row.push(r.tps);
    }
    table.set(name, row);
  } finally {
    await server.stop();
  }
}

console.log(`completion tokens/s, ${REQUESTS} streaming requests of up to ${MAX_TOKENS} tokens per concurrency (${models.target})`);
console.log(`${"mode".padEnd(24)}${levels.map((c) => `c=${c}`.padStart(16)).join("")}`);
const base = table.get("target alone")!;
for (const [name, row] of table) {
  const cells = row.map((tps, i) => (name === "target alone" ? `${tps.toFixed(0)}` : `${tps.toFixed(0)} (${(tps / base[i]).toFixed(2)}x)`));
  console.log(`${name.padEnd(24)}${cells.map((c) => c.padStart(16)).join("")}`);
}
