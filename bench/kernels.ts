// The distribution kernels one at a time, on real logits: 64 positions of the shipped pair's target
// and expert (a greedy continuation of a fixed prompt), each kernel and rule called in a loop over
// them (caches hot). What a decision costs right after its passes is bench/engine.ts's last line.
// Usage: node --import tsx bench/kernels.ts [--target T.gguf --expert E.gguf [--expert-lora A.gguf]]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { LlamaBackend } from "../src/backend/llama-backend.ts";
import { SHIPPED_DIR } from "../src/demo/shipped.ts";
import { kernels } from "../src/decoding/kernels.ts";
import { positionRng } from "../src/decoding/rng.ts";
import { resolveDecodingSettings } from "../src/decoding/settings.ts";
import { logSumExp, warp } from "../src/decoding/warpers.ts";

const { values } = parseArgs({ options: { target: { type: "string" }, expert: { type: "string" }, "expert-lora": { type: "string" } } });
const paths = values.target
  ? { target: values.target, expert: values.expert ?? values.target, lora: values["expert-lora"] }
  : { target: join(SHIPPED_DIR, "target.gguf"), expert: join(SHIPPED_DIR, "expert.gguf"), lora: join(SHIPPED_DIR, "expert-security-lora.gguf") };

const target = await LlamaBackend.load({ path: paths.target, gpu: "cpu", threads: 1 });
const expert = await LlamaBackend.load({ path: paths.expert, gpu: "cpu", threads: 1, ...(paths.lora ? { lora: { path: paths.lora, scale: 1 } } : {}) });
const [ts, es] = [target.newSequence(), expert.newSequence()];
const POSITIONS = 64;
const targetRows: Float32Array[] = [];
const expertRows: Float32Array[] = [];
let token = 300;
await target.evaluateBatch([{ sequence: ts, tokens: Array.from({ length: 40 }, (_, i) => 200 + ((i * 37) % 900)), logitsFor: "last" }], { inline: true });
for (let i = 0; i < POSITIONS; i++) {
  const [[t]] = await target.evaluateBatch([{ sequence: ts, tokens: [token], logitsFor: "last" }], { inline: true });
  const [[e]] = await expert.evaluateBatch([{ sequence: es, tokens: [token], logitsFor: "last" }], { inline: true });
  targetRows.push(t.slice());
  expertRows.push(e.slice());
  token = kernels().argmax(t);
}

const decoding = resolveDecodingSettings({ strategy: "cosec-plus" }, { hasExpert: true, source: "cli" });
const rule = decoding.strategy;
const out = new Int32Array(64);
const row = (rows: Float32Array[], i: number) => rows[i % POSITIONS];
let fallbacks = 0;
for (let i = 0; i < POSITIONS; i++) if (rule.choose({ target: targetRows[i], expert: expertRows[i] }, positionRng(1, 0, i)).source === "target") fallbacks++;
console.log(`kernels on ${POSITIONS} positions of real logits (vocabulary ${targetRows[0].length}; cosec-plus falls back to the target at ${fallbacks} of them), µs per call:`);
const time = (name: string, f: (i: number) => void) => {
  for (let i = 0; i < 2000; i++) f(i);
  const n = 20000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f(i);
  console.log(`  ${name.padEnd(36)} ${(((performance.now() - t0) / n) * 1000).toFixed(2)}`);
};
time("argmax", (i) => kernels().argmax(row(targetRows, i)));
time("log-sum-exp", (i) => logSumExp(row(targetRows, i)));
time("top-50", (i) => kernels().topK(row(expertRows, i), 50, out));
time("warp (temperature, top-k, top-p)", (i) => warp(row(expertRows, i), decoding.sampling.expert));
time("Gumbel-max, temperature 1", (i) => kernels().gumbelMax(row(targetRows, i), 1, i));
time("cosec-plus proposal", (i) => rule.propose!(row(expertRows, i), positionRng(1, 0, i)));
time("cosec-plus decision (with proposal)", (i) => rule.choose({ target: row(targetRows, i), expert: row(expertRows, i) }, positionRng(1, 0, i)));
await Promise.all([ts.dispose(), es.dispose()]);
process.exit(0);
