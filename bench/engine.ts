// Engine benchmark, all figures measured in one run on one pair:
//  1. logits access: node-llama-cpp's full-distribution path vs cosec's addon, ms per position;
//  2. decoding: target alone, sequential cosec-plus, speculative cosec-plus, tokens/s and ratios,
//     acceptance rate and mean accepted run length.
// Usage: node --import tsx bench/engine.ts [--target T.gguf --expert E.gguf [--expert-lora A.gguf]]
//        [--tokens 64] [--prompts 4] [--skip-logits]
// Default pair: the demo family when built (.cache/demo), else random-weight models made by the
// trainer (llama 25m target, tiny expert: ~7.5x the expert's per-token compute) — speed only, their
// acceptance is meaningless.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { execFileSync } from "node:child_process";
import { getLlama, LlamaLogLevel, type ControlledEvaluateInputItem } from "node-llama-cpp";
import { LlamaBackend } from "../src/backend/llama-backend.ts";
import { Engine } from "../src/generate/engine.ts";
import type { GenerateOptions } from "../src/generate/types.ts";
import { cacheRoot, repoRoot, venvPython } from "../src/paths.ts";

const { values } = parseArgs({
  options: {
    target: { type: "string" },
    expert: { type: "string" },
    "expert-lora": { type: "string" },
    tokens: { type: "string", default: "64" },
    prompts: { type: "string", default: "4" },
    "skip-logits": { type: "boolean" },
  },
});

function randomPair(): { target: string; expert: string; label: string } {
  const dir = join(cacheRoot, "bench");
  mkdirSync(dir, { recursive: true });
  const make = (size: string, name: string) => {
    const gguf = join(dir, `${name}.gguf`);
    if (!existsSync(gguf)) {
      console.error(`[bench] creating random-weight ${size} model ${gguf}`);
      execFileSync(venvPython(), ["-m", "cosec_trainer", "create", "--size", size, "--seed", "1", "--context", "1024", "--out", join(dir, name), "--gguf", gguf], {
        cwd: repoRoot,
        env: { ...process.env, PYTHONPATH: join(repoRoot, "trainer") },
        stdio: ["ignore", "ignore", "inherit"],
      });
    }
    return gguf;
  };
  return { target: make("25m", "random-25m"), expert: make("tiny", "random-tiny"), label: "random-weight llama 25m target / tiny expert (speed only)" };
}

function pair(): { target: string; expert: string; expertLora?: string; label: string } {
  if (values.target && values.expert) return { target: values.target, expert: values.expert, expertLora: values["expert-lora"], label: "given pair" };
  const demo = join(cacheRoot, "demo", "manifest.json");
  if (existsSync(demo)) {
    const m = JSON.parse(readFileSync(demo, "utf8")) as { gguf?: { target?: string; expert?: string; expertLora?: string } };
    const at = (f?: string) => (f ? join(cacheRoot, "demo", f) : undefined); // manifest paths are relative to it
    if (m.gguf?.target && m.gguf.expert) return { target: at(m.gguf.target)!, expert: at(m.gguf.expert)!, expertLora: at(m.gguf.expertLora), label: "demo family" };
  }
  return randomPair();
}

const PROMPTS = [
  'def get_user(db, user_id):\n    cursor = db.cursor()\n    cursor.execute(',
  "import os\n\ndef read_upload(name):\n    path = os.path.join('/srv/uploads', name)\n",
  "int copy_name(char *dst, const char *src, size_t n) {\n",
  "@app.route('/hello')\ndef hello():\n    name = request.args.get('name')\n",
  "def run_command(cmd):\n    import subprocess\n",
  "char *read_line(FILE *f) {\n    char *buf = malloc(256);\n",
];

async function benchLogits(path: string): Promise<void> {
  const positions = 20;
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: path });
  const ctx = await model.createContext({ contextSize: 512, threads: 1 });
  const seq = ctx.getSequence();
  const tokens = model.tokenize("def f(x):\n    return x + 1\n" + "y = f(2)\n".repeat(4)).slice(0, positions);
  const t0 = performance.now();
  const input: ControlledEvaluateInputItem[] = tokens.map((t) => [t, { generateNext: { probabilities: true } }]);
  const out = await seq.controlledEvaluate(input);
  const nlcMs = (performance.now() - t0) / tokens.length;
  const vocab = out[out.length - 1]?.next.probabilities?.size ?? 0;
  await ctx.dispose();
  await model.dispose();

  const b = await LlamaBackend.load({ path, gpu: "cpu", threads: 1 });
  const s = b.newSequence();
  const t1 = performance.now();
  const rows = await s.evaluate(tokens, "all");
  const addonMs = (performance.now() - t1) / tokens.length;
  // What the addon adds to llama.cpp's own work: copying each row out (C++ memcpy into a reused
  // buffer, then into the sequence's buffer). Timed here on the same rows.
  const sink = new Float32Array(rows[0].length);
  const reps = 200;
  const t2 = performance.now();
  for (let r = 0; r < reps; r++) sink.set(rows[r % rows.length]);
  const copyMs = (performance.now() - t2) / reps;
  await b.dispose();
  console.log(`logits access (${tokens.length} positions, vocabulary ${b.info.vocabSize}; node-llama-cpp returned ${vocab} probabilities):`);
  console.log(`  node-llama-cpp controlledEvaluate + probabilities: ${nlcMs.toFixed(2)} ms/position (forward pass included)`);
  console.log(`  cosec addon, raw logits of every position:         ${addonMs.toFixed(2)} ms/position (forward pass included)`);
  console.log(`  cosec addon's own cost per row (one copy of the row): ${(copyMs * 2).toFixed(3)} ms (goal <= 1 ms)`);
  console.log(`  => node-llama-cpp / addon per position: ${(nlcMs / addonMs).toFixed(1)}x`);
}

async function benchDecoding(p: ReturnType<typeof pair>): Promise<void> {
  const maxTokens = Number(values.tokens);
  const prompts = PROMPTS.slice(0, Number(values.prompts));
  const engine = await Engine.load({ target: p.target, expert: p.expert, expertLora: p.expertLora, gpu: "cpu", contextSize: 1024 });
  console.log(`\ndecoding (${p.label}): target ${(engine.target.info.parameterCount / 1e6).toFixed(1)}M params, expert ${(engine.expert!.info.parameterCount / 1e6).toFixed(1)}M params;`);
  console.log(`  ${prompts.length} prompts x ${maxTokens} tokens, 1 sample, seeds 0..${prompts.length - 1}, default threads`);
  const modes: [string, GenerateOptions][] = [
    ["target alone", { strategy: "target" }],
    ["cosec-plus sequential", { strategy: "cosec-plus" }],
    ["cosec-plus speculative", { strategy: "cosec-plus", speculative: true }],
  ];
  // Warm-up (page-in of weights, allocator).
  await engine.generate(prompts[0], { strategy: "cosec-plus", maxTokens: 8 });
  const rates: number[] = [];
  for (const [name, opts] of modes) {
    let tokens = 0;
    let ms = 0;
    let fromExpert = 0;
    let rounds = 0;
    let accepted = 0;
    for (const [i, prompt] of prompts.entries()) {
      const { results, speculative } = await engine.generateWithStats(prompt, { ...opts, maxTokens, seed: i });
      const r = results[0];
      tokens += r.tokens.length;
      ms += r.timing.generateMs + r.timing.promptMs;
      fromExpert += r.sources.filter((s) => s === "expert").length;
      rounds += speculative?.rounds ?? 0;
      accepted += speculative?.acceptedDrafts ?? 0;
    }
    const tps = (tokens * 1000) / ms;
    rates.push(tps);
    const extra =
      name === "target alone"
        ? ""
        : `, acceptance ${(fromExpert / tokens).toFixed(3)}` + (rounds ? `, mean accepted run ${(accepted / rounds).toFixed(2)} drafts/round` : "");
    console.log(`  ${name.padEnd(24)} ${tps.toFixed(1).padStart(7)} tokens/s (${tokens} tokens)${extra}`);
  }
  console.log(`  ratio sequential cosec-plus / target alone:  ${(rates[1] / rates[0]).toFixed(3)}  (goal >= 0.85)`);
  console.log(`  ratio speculative cosec-plus / target alone: ${(rates[2] / rates[0]).toFixed(3)}  (goal >= 1.3)`);
  await engine.dispose();
}

const p = pair();
if (!values["skip-logits"]) await benchLogits(p.target);
await benchDecoding(p);
