// Co-decoding with a remote target over loopback, measured beside the local pair in one run: the
// shipped demo target served by `cosec serve` (target only, top-k off so its draws are raw), the
// demo expert with its LoRA local. Reports tokens/s of cosec-plus with the local target (sequential
// and speculative) and with the remote one, and the remote's HTTP requests per token.
//   node --import tsx bench/remote.ts [--prompts 4] [--tokens 48] [--draft 4]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SHIPPED_DIR } from "../src/demo/shipped.ts";
import { Engine } from "../src/generate/engine.ts";
import { RemoteEngine } from "../src/generate/remote.ts";
import { startServer } from "./lib/server-harness.ts";

const { values } = parseArgs({ options: { prompts: { type: "string", default: "4" }, tokens: { type: "string", default: "48" }, draft: { type: "string", default: "4" } } });
const target = join(SHIPPED_DIR, "target.gguf");
const expert = join(SHIPPED_DIR, "expert.gguf");
const expertLora = join(SHIPPED_DIR, "expert-security-lora.gguf");
const PROMPTS = ["def read_file(name):\n    ", "@app.route('/user')\ndef user():\n    ", "int main(int argc, char **argv) {\n    ", "def run(cmd):\n    "].slice(0, Number(values.prompts));
const maxTokens = Number(values.tokens);
const draftMax = Number(values.draft);

const server = await startServer({ target }, ["--top-k", "0", "--parallel", "2", "--context-size", "1024"]);
const remote = await RemoteEngine.load({ target: { url: server.url }, expert, expertLora, gpu: "cpu", contextSize: 1024, expertThreads: 1 });
const local = await Engine.load({ target, expert, expertLora, gpu: "cpu", contextSize: 1024 });
const rows: { name: string; tokens: number; ms: number; requests?: number; fromExpert: number }[] = [
  { name: "local cosec-plus sequential", tokens: 0, ms: 0, fromExpert: 0 },
  { name: "local cosec-plus speculative", tokens: 0, ms: 0, fromExpert: 0 },
  { name: "remote target cosec-plus", tokens: 0, ms: 0, requests: 0, fromExpert: 0 },
];
try {
  await remote.generate(PROMPTS[0], { maxTokens: 16 }); // warm-up
  await local.generate(PROMPTS[0], { maxTokens: 16 });
  for (const [i, p] of PROMPTS.entries()) {
    for (const [m, speculative] of [false, true].entries()) {
      const t0 = performance.now();
      const [r] = await local.generate(p, { decoding: { strategy: "cosec-plus", speculative, ...(speculative ? { draftMax } : {}) }, maxTokens, seed: i });
      rows[m].ms += performance.now() - t0;
      rows[m].tokens += r.tokens.length;
      rows[m].fromExpert += r.sources.filter((s) => s === "expert").length;
    }
    const t0 = performance.now();
    const { result, timing } = await remote.generate(p, { decoding: { strategy: "cosec-plus", draftMax }, maxTokens, seed: i });
    rows[2].ms += performance.now() - t0;
    rows[2].tokens += result.tokens.length;
    rows[2].requests! += timing.requests;
    rows[2].fromExpert += result.sources.filter((s) => s === "expert").length;
  }
} finally {
  await Promise.all([remote.dispose(), local.dispose()]);
  await server.stop();
}
console.log(`remote target over loopback (${PROMPTS.length} prompts x up to ${maxTokens} tokens, drafts of ${draftMax}; shipped demo family):`);
for (const r of rows) {
  const extra = r.requests !== undefined ? `, ${(r.requests / r.tokens).toFixed(2)} requests per token` : "";
  console.log(`  ${r.name.padEnd(30)} ${((r.tokens * 1000) / r.ms).toFixed(1).padStart(7)} tokens/s (${r.tokens} tokens, expert kept ${((100 * r.fromExpert) / r.tokens).toFixed(0)}%)${extra}`);
}
console.log(`  remote / local speculative: ${((rows[2].tokens / rows[2].ms) / (rows[1].tokens / rows[1].ms)).toFixed(2)}`);
