// Engine benchmark, all figures measured in one run, each pair in one process:
//  1. logits access: node-llama-cpp's full-distribution path vs cosec's addon, ms per position;
//  2. decoding: target alone, sequential cosec-plus, speculative cosec-plus, tokens/s and ratios,
//     acceptance rate, mean accepted run and mean draft length, where each step or round's time went;
//  3. the ceilings the pair's pass costs allow (target passes of 1..8 tokens, the expert's step):
//     the best ratios any schedule could reach with zero overhead at the measured acceptance.
// Usage: node --import tsx bench/engine.ts [--pair distilled,random,demo,trained] [--target T.gguf --expert E.gguf
//        [--expert-lora A.gguf]] [--tokens 64] [--prompts 6] [--rounds 2] [--draft-max K] [--skip-logits]
//        [--draft-p-min P[,P...]]  (adds a speculative mode per value: drafting stops at an unsure proposal)
//        [--outtype f32|f16|q8_0]  (GGUF type of the pairs the bench makes: distilled, random, trained; f32 default)
// Pairs:
//  - distilled: the random 25m target below with a tiny expert distilled from it by the trainer
//    (phase 1 of the method): acceptance near 1, because a random target is near-uniform and easy to
//    imitate. Speed only: it shows what the engine makes of a well-aligned pair.
//  - random: random-weight llama 25m target (25.7M parameters with the demo's 4k vocabulary) and tiny
//    expert (0.9M), made by the trainer: 28x the parameters, the proportions of a 7B/0.5B pair with
//    the output layer a small share of the target. For speed alone: their acceptance comes from
//    near-uniform random distributions, not from a distilled expert. Without a built demo family the
//    CodeGen tokenizer (50k tokens) is used, which makes the output layer half the target's work.
//  - demo: the shipped demo family (models/demo; else one built into .cache/demo): real
//    acceptance, but per-token cost is mostly llama.cpp's fixed per-call overhead at this size.
//  - trained (only when named): a 25m target trained on the demo's code mix (600 steps) and a tiny
//    expert distilled from it (200 steps), built once (about 20 minutes on 2 cores): real acceptance
//    at the proportions, from weak models.
//  - given: --target/--expert[/--expert-lora].
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel, type ControlledEvaluateInputItem } from "node-llama-cpp";
import { LlamaBackend } from "../src/backend/llama-backend.ts";
import { getRuntime } from "../src/backend/native-addon.ts";
import type { ModelBackend } from "../src/backend/types.ts";
import { SHIPPED_DIR } from "../src/demo/shipped.ts";
import { latestModelDir } from "../src/demo/trainer-cli.ts";
import { DraftLengthChooser } from "../src/decoding/draft-length.ts";
import { emptyProfile, type DecodeProfile } from "../src/decoding/job.ts";
import { positionRng } from "../src/decoding/rng.ts";
import { Engine } from "../src/generate/engine.ts";
import type { GenerateOptions } from "../src/generate/types.ts";
import { resolveDecodingSettings, type DecodingInput } from "../src/decoding/settings.ts";
import { cacheRoot, repoRoot } from "../src/paths.ts";
import { runTrainer, type Phase } from "../src/train/run-trainer.ts";
import { median, quantile } from "./lib/stats.ts";

const { values } = parseArgs({
  options: {
    pair: { type: "string" },
    target: { type: "string" },
    expert: { type: "string" },
    "expert-lora": { type: "string" },
    tokens: { type: "string", default: "64" },
    prompts: { type: "string", default: "6" },
    rounds: { type: "string", default: "2" },
    "skip-logits": { type: "boolean" },
    "draft-max": { type: "string" },
    "draft-p-min": { type: "string" },
    outtype: { type: "string", default: "f32" },
  },
});

const OUTTYPES = ["f32", "f16", "q8_0"];
const outtype = values.outtype!;
if (!OUTTYPES.includes(outtype)) throw new Error(`--outtype must be one of ${OUTTYPES.join(", ")}, got '${outtype}'`);
/** The GGUF of a model the bench makes, in --outtype: F32 keeps the name it always had. */
const ggufOf = (base: string) => (outtype === "f32" ? `${base}.gguf` : `${base}-${outtype}.gguf`);

interface Pair {
  target: string;
  expert: string;
  expertLora?: string;
  label: string;
}

const demoDir = join(cacheRoot, "demo");

function demoPair(): Pair | null {
  // The shipped family (models/demo, what `npm run demo` uses), else one built into .cache/demo.
  const shipped = (f: string) => join(SHIPPED_DIR, f);
  if (["target.gguf", "expert.gguf", "expert-security-lora.gguf"].every((f) => existsSync(shipped(f)))) {
    return { target: shipped("target.gguf"), expert: shipped("expert.gguf"), expertLora: shipped("expert-security-lora.gguf"), label: "demo family (shipped)" };
  }
  const manifest = join(demoDir, "manifest.json");
  if (!existsSync(manifest)) return null;
  const m = JSON.parse(readFileSync(manifest, "utf8")) as { gguf?: { target?: string; expert?: string; expertLora?: string } };
  const at = (f?: string) => (f ? join(demoDir, f) : undefined); // manifest paths are relative to it
  if (!m.gguf?.target || !m.gguf.expert) return null;
  return { target: at(m.gguf.target)!, expert: at(m.gguf.expert)!, expertLora: at(m.gguf.expertLora), label: "demo family (trained)" };
}

// Random-weight models are made once by the trainer and cached under .cache/bench.
const benchDir = join(cacheRoot, "bench");

/** One trainer phase; its events are not shown, its logs go to stderr. */
async function trainer([phase, ...args]: [Phase, ...string[]]): Promise<void> {
  await runTrainer(phase, args, { onLog: (line, stream) => stream === "stderr" && process.stderr.write(line + "\n") });
}

/**
 * Runs one trainer phase that writes the run folder `run` and exports its latest checkpoint, unless
 * done before (its F32 GGUF is the mark), then exports it in --outtype when that is another type.
 */
async function trainAndExport(args: [Phase, ...string[]], run: string): Promise<string> {
  if (!existsSync(`${run}.gguf`)) {
    await trainer(args);
    await trainer(["export", "--run", run, "--checkpoint", "latest", "--out", `${run}.gguf`]);
  }
  if (!existsSync(ggufOf(run))) await trainer(["export", "--run", run, "--checkpoint", "latest", "--outtype", outtype, "--out", ggufOf(run)]);
  return ggufOf(run);
}

/** The trainer's phase 1 into a tiny student: the part of the command both distilled pairs share. */
function distillTiny(teacher: string, data: string): [Phase, ...string[]] {
  return ["distill", "--teacher", teacher, "--student-size", "tiny", "--data", data, "--max-len", "256"];
}

interface RandomModels {
  /** Model folder (Hugging Face format) and GGUF of a random-weight model of a trainer preset. */
  make(size: string): Promise<{ folder: string; gguf: string }>;
  suffix: string;
  vocab: string;
}

function randomModels(): RandomModels {
  const demoTokenizer = join(demoDir, "tokenizer");
  const small = existsSync(join(demoTokenizer, "tokenizer.json"));
  mkdirSync(benchDir, { recursive: true });
  const suffix = small ? "-v4k" : "";
  const make = async (size: string) => {
    const folder = join(benchDir, `random-${size}${suffix}`);
    if (!existsSync(`${folder}.gguf`)) {
      console.error(`[bench] creating random-weight ${size} model ${folder}.gguf`);
      const tok = small ? ["--tokenizer", demoTokenizer] : [];
      await trainer(["create", "--size", size, "--seed", "1", "--context", "1024", ...tok, "--out", folder, "--gguf", `${folder}.gguf`]);
    }
    const gguf = ggufOf(folder);
    if (!existsSync(gguf)) await trainer(["export", "--model", folder, "--outtype", outtype, "--out", gguf]);
    return { folder, gguf };
  };
  return { make, suffix, vocab: small ? "demo 4k vocabulary" : "CodeGen 50k vocabulary" };
}

async function randomPair(): Promise<Pair> {
  const m = randomModels();
  return { target: (await m.make("25m")).gguf, expert: (await m.make("tiny")).gguf, label: `random-weight llama 25m target / tiny expert, ${m.vocab}, ${outtype.toUpperCase()} (speed only)` };
}

// The random 25m target with a tiny expert distilled from it by the trainer's phase 1 (forward KL,
// 60 steps on the trainer's own Python sources, about a minute on 2 cores). A random target is
// near-uniform (cross-entropy ≈ ln V on code), so the student imitates it almost exactly: the
// acceptance is higher than a real pair's. Speed only, like the random pair.
async function distilledPair(): Promise<Pair> {
  const m = randomModels();
  const target = await m.make("25m");
  const run = join(benchDir, `distilled-tiny${m.suffix}`);
  if (!existsSync(`${run}.gguf`)) console.error(`[bench] distilling a tiny expert from the random 25m target into ${run}.gguf (about a minute)`);
  const loop = ["--run-dir", run, "--steps", "60", "--batch-size", "8", "--lr", "3e-3", "--warmup", "10", "--eval-every", "0", "--max-val", "8", "--seed", "1", "--resume"];
  const gguf = await trainAndExport([...distillTiny(target.folder, join(repoRoot, "trainer", "cosec_trainer")), ...loop], run);
  return { target: target.gguf, expert: gguf, label: `random-weight llama 25m target / tiny expert distilled from it, ${m.vocab}, ${outtype.toUpperCase()} (speed only)` };
}

// A trained pair at the proportions, on request only (about 20 minutes on 2 cores, cached):
// a 25m target trained on the demo's code mix, and a tiny expert distilled from it on the same
// data. Real, if weak, models: its acceptance is what a distilled expert of a trained target gets.
async function trainedPair(): Promise<Pair | null> {
  const data = join(demoDir, "data", "domain_mix.jsonl");
  const tokenizer = join(demoDir, "tokenizer");
  const targetRun = join(benchDir, "trained-25m");
  const expertRun = join(benchDir, "trained-tiny");
  // The data is needed only to train: a pair trained before is used as it is.
  const trained = existsSync(`${targetRun}.gguf`) && existsSync(`${expertRun}.gguf`);
  if (!trained && (!existsSync(data) || !existsSync(join(tokenizer, "tokenizer.json")))) return null;
  mkdirSync(benchDir, { recursive: true });
  const loop = (run: string, steps: number, lr: string, seed: string) =>
    ["--run-dir", run, "--steps", String(steps), "--batch-size", "8", "--lr", lr, "--warmup", "30", "--eval-every", "0", "--save-every", "50", "--max-val", "16", "--seed", seed, "--resume"];
  if (!existsSync(`${targetRun}.gguf`)) console.error(`[bench] training a 25m target on ${data} into ${targetRun}.gguf (about 15 minutes on 2 cores)`);
  const pretrain: [Phase, ...string[]] = ["pretrain", "--data", data, "--arch", "llama", "--size", "25m", "--tokenizer", tokenizer, "--context", "1024", "--block", "256"];
  const target = await trainAndExport([...pretrain, ...loop(targetRun, 600, "1e-3", "3")], targetRun);
  if (!existsSync(`${expertRun}.gguf`)) console.error(`[bench] distilling a tiny expert from it into ${expertRun}.gguf (about 5 minutes)`);
  // The teacher is read only when the expert is still to be distilled.
  const teacher = latestModelDir(targetRun);
  if (!teacher && !existsSync(`${expertRun}.gguf`)) throw new Error(`${targetRun} has no checkpoint`);
  const expert = await trainAndExport([...distillTiny(teacher ?? "", data), ...loop(expertRun, 200, "2e-3", "4")], expertRun);
  return { target, expert, label: `trained llama 25m target / tiny expert distilled from it (demo data and tokenizer), ${outtype.toUpperCase()}` };
}

async function pairs(): Promise<Pair[]> {
  if (values.target && values.expert) return [{ target: values.target, expert: values.expert, expertLora: values["expert-lora"], label: "given pair" }];
  const names = (values.pair ?? "distilled,random,demo").split(",").map((x) => x.trim());
  const out: Pair[] = [];
  for (const name of names) {
    if (name === "random") out.push(await randomPair());
    else if (name === "distilled") out.push(await distilledPair());
    else if (name === "trained") {
      const t = await trainedPair();
      if (t) out.push(t);
      else console.error("[bench] the trained pair is trained on a built demo family's data and tokenizer (`cosec demo build` makes one in .cache/demo): skipping it");
    }
    else if (name === "demo") {
      const d = demoPair();
      if (d) out.push(d);
      else console.error("[bench] no demo family in models/demo or .cache/demo (cosec demo build makes one): skipping the demo pair");
    } else throw new Error(`unknown pair '${name}' (distilled, random, demo, trained)`);
  }
  return out;
}

const PROMPTS = [
  "def get_user(db, user_id):\n    cursor = db.cursor()\n    cursor.execute(",
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

async function benchDecoding(p: Pair): Promise<void> {
  const maxTokens = Number(values.tokens);
  const prompts = PROMPTS.slice(0, Number(values.prompts));
  const pairOptions = { target: p.target, expert: p.expert, expertLora: p.expertLora, gpu: "cpu", contextSize: 1024 } as const;
  const engine = await Engine.load(pairOptions);
  const cores = (await getRuntime("cpu")).mathCores;
  // Baselines at their best: the target alone also gets every core, through the same persistent
  // thread pool. And co-decoding with each model kept to its own threads (no core lending).
  const targetAllCores = await Engine.load({ target: p.target, gpu: "cpu", contextSize: 1024, targetThreads: cores });
  const t = engine.target.info.threads;
  const ownThreads = await Engine.load({ ...pairOptions, soloThreads: t, schedule: "overlap" });
  console.log(`\ndecoding (${p.label}): target ${(engine.target.info.parameterCount / 1e6).toFixed(1)}M params, expert ${(engine.expert!.info.parameterCount / 1e6).toFixed(1)}M params;`);
  console.log(`  ${values.rounds} rounds x ${prompts.length} prompts x ${maxTokens} tokens (end-of-text ignored), 1 sample, seeds 0..${prompts.length - 1};`);
  console.log(`  threads: target ${t}, expert ${engine.expert!.info.threads}, either alone ${engine.cores.solo} (${cores} cores), lending ${engine.cores.schedule};`);
  console.log("  tokens/s over prompt + generation wall time");
  // Resolved once, as every front end does; an invalid --draft-max is refused naming the flag.
  const draftMax = values["draft-max"] === undefined ? undefined : Number(values["draft-max"]);
  const decode = (d: DecodingInput): GenerateOptions => ({ decoding: resolveDecodingSettings(d, { hasExpert: true, source: "cli" }) });
  const modes: [string, Engine, GenerateOptions][] = [
    [`target alone, ${t} thread(s)`, ownThreads, decode({ strategy: "target" })],
    [`target alone, ${cores} threads`, targetAllCores, decode({ strategy: "target" })],
    ["cosec-plus sequential, own threads", ownThreads, decode({ strategy: "cosec-plus", speculative: false })],
    ["cosec-plus sequential", engine, decode({ strategy: "cosec-plus", speculative: false })],
    ["cosec-plus speculative, own threads", ownThreads, decode({ strategy: "cosec-plus", speculative: true, draftMax })],
    ["cosec-plus speculative", engine, decode({ strategy: "cosec-plus", speculative: true, draftMax })],
    ...(values["draft-p-min"]?.split(",") ?? []).map(
      (x) => [`cosec-plus speculative, p_min ${x}`, engine, decode({ strategy: "cosec-plus", speculative: true, draftMax, draftPMin: Number(x) })] as [string, Engine, GenerateOptions],
    ),
  ];
  // Warm-up, every mode once: page-in of weights, allocator, and first measurements of what the
  // engine learns and keeps, as a server would have after its first requests (draft and
  // verification costs; whether lending cores pays, whose learner first takes three epochs of 16
  // steps or rounds of each choice in turn). The figures are the steady state: a speculative round
  // yields 2-3 tokens, so the lending learner's 96 first rounds take some 250 tokens, and with 96
  // the timed part measured its trials (30% of rounds lent in one run, 79% in the next).
  for (const [, e, opts] of modes) {
    const learnsLending = e.cores.schedule === "auto" && opts.decoding?.speculative === true;
    await e.generate(prompts[0], { ...opts, maxTokens: learnsLending ? 320 : 96, seed: 99, ignoreEos: true });
  }
  // What the engine's lending learner chose in the timed part (the step and round keys of src/decoding/sequential.ts and speculative/schedule.ts).
  const lentShare = (key: string, before: { lent: number; own: number }) => {
    const now = engine.cores.steps(key);
    const lent = now.lent - before.lent;
    const all = lent + now.own - before.own;
    return all > 0 ? `${((100 * lent) / all).toFixed(0)}% of ${all}` : "none";
  };
  const stepKey = "step:target+expert";
  const roundKey = "round:target";
  const lentBefore = { step: engine.cores.steps(stepKey), round: engine.cores.steps(roundKey) };
  // Modes take turns prompt by prompt (rounds x prompts), so that drift in the machine's speed
  // falls on every mode alike rather than on whichever ran last.
  const totals = modes.map(() => ({ tokens: 0, ms: 0, fromExpert: 0, rounds: 0, accepted: 0, drafted: 0, profile: emptyProfile() }));
  // Garbage collection, which the engine's timings cannot see: each pause is charged to the mode
  // whose generation it fell in.
  const gc = new GcPauses();
  const windows: { mode: number; start: number; end: number }[] = [];
  // Tokens/s of every mode on each (round, prompt): the modes ran back to back on it, so its ratios
  // are paired, and their spread shows how far this machine's drift moves one run's ratio.
  const paired: number[][] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [i, prompt] of prompts.entries()) {
      const here: number[] = [];
      paired.push(here);
      for (const [m, [, eng, opts]] of modes.entries()) {
        const start = performance.now();
        const { results, speculative, profile } = await eng.generateWithStats(prompt, { ...opts, maxTokens, seed: i, ignoreEos: true });
        windows.push({ mode: m, start, end: performance.now() });
        const r = results[0];
        const ms = r.timing.generateMs + r.timing.promptMs;
        here.push((r.tokens.length * 1000) / ms);
        const t = totals[m];
        t.tokens += r.tokens.length;
        t.ms += ms;
        t.fromExpert += r.sources.filter((s) => s === "expert").length;
        t.rounds += speculative?.rounds ?? 0;
        t.accepted += speculative?.acceptedDrafts ?? 0;
        t.drafted += speculative?.drafted ?? 0;
        for (const k of Object.keys(profile) as (keyof DecodeProfile)[]) t.profile[k] += profile[k];
      }
    }
  }
  const rates: number[] = [];
  for (const [m, [name]] of modes.entries()) {
    const t = totals[m];
    const tps = (t.tokens * 1000) / t.ms;
    rates.push(tps);
    const extra = name.startsWith("target alone")
      ? ""
      : `, acceptance ${(t.fromExpert / t.tokens).toFixed(3)}` +
        (t.rounds ? `, mean accepted run ${(t.accepted / t.rounds).toFixed(2)} of ${(t.drafted / t.rounds).toFixed(2)} drafts/round` : "");
    console.log(`  ${name.padEnd(36)} ${tps.toFixed(1).padStart(7)} tokens/s (${t.tokens} tokens)${extra}`);
  }
  const gcMs = await gc.charge(windows, modes.length);
  // The engine's own timings: where a step's (sequential) or a round's (speculative) time went.
  console.log("  time per step or round, after the prompt's (engine timings; GC: pauses inside the mode's generations, share of their wall time):");
  for (const [m, [name]] of modes.entries()) {
    const p = totals[m].profile;
    if (p.steps === 0) continue;
    const pct = (x: number) => `${((100 * x) / p.totalMs).toFixed(1)}%`;
    const other = p.totalMs - p.modelMs - p.decideMs - p.rollbackMs;
    const passes = p.draftMs > 0 ? `model passes ${pct(p.modelMs)} (expert drafts ${pct(p.draftMs)}, verification ${pct(p.modelMs - p.draftMs)})` : `model passes ${pct(p.modelMs)}`;
    console.log(
      `    ${name.padEnd(36)} ${(p.totalMs / p.steps).toFixed(3)} ms: ${passes}, decisions ${pct(p.decideMs)}, rollback ${pct(p.rollbackMs)}, ` +
        `other ${pct(other)}; overhead (all but passes) ${pct(p.totalMs - p.modelMs)}${name.includes("speculative") ? " (goal <= 3%)" : ""}; ` +
        `GC ${((100 * gcMs[m]) / totals[m].ms).toFixed(2)}%`,
    );
  }
  console.log(
    `  cores lent to the target (--schedule ${engine.cores.schedule}): sequential steps ${lentShare(stepKey, lentBefore.step)}, ` +
      `speculative rounds ${lentShare(roundKey, lentBefore.round)}`,
  );
  const best = Math.max(rates[0], rates[1]);
  // The same ratio on each (round, prompt), against the faster target alone on that prompt.
  const spread = (m: number) => {
    const r = paired.map((p) => p[m] / Math.max(p[0], p[1]));
    return `per prompt: median ${median(r).toFixed(3)}, quartiles ${quantile(r, 0.25).toFixed(3)}–${quantile(r, 0.75).toFixed(3)} over ${r.length}`;
  };
  console.log("  ratios to the faster target alone (all tokens pooled; then the same ratio taken per prompt and round):");
  const ratioLine = (label: string, m: number, goal = "") => console.log(`    ${label}`.padEnd(42) + `${(rates[m] / best).toFixed(3)}${goal}  ${spread(m)}`);
  ratioLine("sequential cosec-plus, own threads:", 2);
  ratioLine("sequential cosec-plus:", 3, "  (goal >= 0.85)");
  ratioLine("speculative cosec-plus, own threads:", 4);
  ratioLine("speculative cosec-plus:", 5, "  (goal >= 1.0)");
  for (let m = 6; m < modes.length; m++) ratioLine(`${modes[m][0].replace("cosec-plus speculative", "speculative cosec-plus")}:`, m);
  const acceptance = totals[5].fromExpert / totals[5].tokens;
  await passCeilings(targetAllCores.target, ownThreads.target, ownThreads.expert!, acceptance, rates, best);
  await Promise.all([engine.dispose(), targetAllCores.dispose(), ownThreads.dispose()]);
}

/** Garbage-collection pauses seen by a PerformanceObserver, charged to time windows afterwards. */
class GcPauses {
  private readonly pauses: { start: number; ms: number }[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) this.pauses.push({ start: e.startTime, ms: e.duration });
  });

  constructor() {
    this.observer.observe({ entryTypes: ["gc"] });
  }

  /** Stops observing (after the last entries are delivered) and sums the pauses per window's mode. */
  async charge(windows: readonly { mode: number; start: number; end: number }[], modes: number): Promise<number[]> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    this.observer.disconnect();
    const perMode = new Array<number>(modes).fill(0);
    for (const p of this.pauses) {
      const w = windows.find((x) => p.start >= x.start && p.start < x.end);
      if (w) perMode[w.mode] += p.ms;
    }
    return perMode;
  }
}

/** The context every pass measurement below starts from and returns to (rolled back after each pass). */
const PASS_CONTEXT = Array.from({ length: 64 }, (_, i) => 10 + i);
/** Unmeasured repetitions first: page-in and the caches' first fill. */
const WARMUP = 5;

/**
 * Median wall time (ms) of one pass of each size in `sizes` on a context of 64 tokens, rolled back
 * after each; sizes take turns (after a warm-up round) so that drift in the machine's speed falls on all.
 */
async function passMs(model: ModelBackend, sizes: readonly number[], reps = 60): Promise<number[]> {
  const seq = model.newSequence();
  try {
    await seq.evaluate(PASS_CONTEXT, "last");
    const times = sizes.map(() => [] as number[]);
    for (let r = -WARMUP; r < reps; r++) {
      for (const [i, n] of sizes.entries()) {
        const t0 = performance.now();
        await seq.evaluate(Array.from({ length: n }, (_, k) => 100 + ((k * 7 + r + 5) % 50)), "all");
        if (r >= 0) times[i].push(performance.now() - t0);
        await seq.truncate(PASS_CONTEXT.length);
      }
    }
    return times.map(median);
  } finally {
    await seq.dispose();
  }
}


/**
 * The passes of speculative rounds with the models alternating as the engine runs them, back to back
 * on this thread with nothing in between: per k, k + 1 one-token expert passes then the target's pass
 * over k + 1 tokens (median ms of a round), and the target alone stepping one token at a time,
 * measured the same way. On a CPU the models evict each other's weights and buffers from the caches,
 * so alternating costs more than the same passes timed apart; no schedule removes that part.
 */
async function alternatingMs(target: ModelBackend, expert: ModelBackend, ks: readonly number[], reps = 60): Promise<{ alone: number; rounds: number[] }> {
  const [ts, es] = [target.newSequence(), expert.newSequence()];
  const one = { inline: true };
  try {
    await ts.evaluate(PASS_CONTEXT, "last");
    await es.evaluate(PASS_CONTEXT, "last");
    const tok = (j: number, r: number) => 100 + ((j * 7 + r + 5) % 50);
    const alone: number[] = [];
    const rounds = ks.map(() => [] as number[]);
    for (let r = -WARMUP; r < reps; r++) {
      let t0 = performance.now();
      for (let j = 0; j < 8; j++) await target.evaluateBatch([{ sequence: ts, tokens: [tok(j, r)], logitsFor: "last" }], one);
      if (r >= 0) alone.push((performance.now() - t0) / 8);
      await ts.truncate(PASS_CONTEXT.length);
      for (const [i, k] of ks.entries()) {
        t0 = performance.now();
        for (let j = 0; j <= k; j++) await expert.evaluateBatch([{ sequence: es, tokens: [tok(j, r)], logitsFor: "last" }], one);
        await target.evaluateBatch([{ sequence: ts, tokens: Array.from({ length: k + 1 }, (_, j) => tok(j, r)), logitsFor: "all" }], one);
        if (r >= 0) rounds[i].push(performance.now() - t0);
        await ts.truncate(PASS_CONTEXT.length);
        await es.truncate(PASS_CONTEXT.length);
      }
    }
    return { alone: median(alone), rounds: rounds.map(median) };
  } finally {
    await Promise.all([ts.dispose(), es.dispose()]);
  }
}

/**
 * A decision's cost right after the passes that fed it and repeated at once on the same logits
 * (median microseconds): a pass streams the model's weights through the CPU caches, so the decision
 * that follows finds its code and data evicted. That part of the overhead no leaner rule removes.
 */
async function decisionUs(target: ModelBackend, expert: ModelBackend, reps = 100): Promise<Record<"cosec-plus" | "target", { cold: number; hot: number }>> {
  const rules = {
    "cosec-plus": resolveDecodingSettings({ strategy: "cosec-plus" }, { hasExpert: true, source: "cli" }).strategy,
    target: resolveDecodingSettings({ strategy: "target" }, { hasExpert: false, source: "cli" }).strategy,
  };
  const [ts, es] = [target.newSequence(), expert.newSequence()];
  const times = { "cosec-plus": { cold: [] as number[], hot: [] as number[] }, target: { cold: [] as number[], hot: [] as number[] } };
  try {
    await ts.evaluate(PASS_CONTEXT, "last");
    await es.evaluate(PASS_CONTEXT, "last");
    for (let r = -WARMUP; r < reps; r++) {
      const token = [100 + ((r + 5) % 50)];
      const [[t]] = await target.evaluateBatch([{ sequence: ts, tokens: token, logitsFor: "last" }], { inline: true });
      const [[e]] = await expert.evaluateBatch([{ sequence: es, tokens: token, logitsFor: "last" }], { inline: true });
      for (const name of ["cosec-plus", "target"] as const) {
        for (const when of ["cold", "hot"] as const) {
          const t0 = performance.now();
          rules[name].choose({ target: t, expert: e }, positionRng(1, 0, r + 100 * Number(when === "hot")));
          if (r >= 0) times[name][when].push(1000 * (performance.now() - t0));
        }
        // The next rule is timed after a pass too.
        if (name === "cosec-plus") await target.evaluateBatch([{ sequence: ts, tokens: token, logitsFor: "last" }], { inline: true });
      }
      await ts.truncate(PASS_CONTEXT.length);
      await es.truncate(PASS_CONTEXT.length);
    }
  } finally {
    await Promise.all([ts.dispose(), es.dispose()]);
  }
  const m = (x: { cold: number[]; hot: number[] }) => ({ cold: median(x.cold), hot: median(x.hot) });
  return { "cosec-plus": m(times["cosec-plus"]), target: m(times.target) };
}

/**
 * What the pair's pass costs alone allow, whatever the engine does between passes: the best ratio
 * to the target alone with zero overhead and i.i.d. acceptance a. Speculative: k + 1 expert steps and
 * one verification of k + 1 tokens yield (1 - a^(k+1)) / (1 - a) tokens. Sequential: each token
 * costs a target pass and an expert pass, one after the other on every core or side by side on
 * their own. A goal above these ceilings cannot be met by cheaper rounds on this machine.
 */
async function passCeilings(targetAll: ModelBackend, targetOwn: ModelBackend, expertOwn: ModelBackend, a: number, rates: number[], best: number): Promise<void> {
  const verify = await passMs(targetAll, [1, 2, 3, 4, 5, 6, 7, 8]);
  const [expertStep] = await passMs(expertOwn, [1]);
  const [targetOwnStep] = await passMs(targetOwn, [1]);
  const alone = verify[0];
  let spec = { k: 0, ratio: 0 };
  for (let k = 1; k < verify.length; k++) {
    // k + 1 expert passes: the pending token's, then one per draft (the last gives the expert's
    // distribution at the position after the drafts, which cosec-plus decides with it too).
    const perToken = ((k + 1) * expertStep + verify[k]) / DraftLengthChooser.tokensPerRound(k, a);
    if (alone / perToken > spec.ratio) spec = { k, ratio: alone / perToken };
  }
  const sequential = Math.max(alone / (alone + expertStep), alone / Math.max(targetOwnStep, expertStep));
  console.log("  pass costs (median of 60, ms): target on every core, n tokens: " + verify.map((ms, i) => `${i + 1}:${ms.toFixed(3)}`).join(" "));
  console.log(`    target on its own threads ${targetOwnStep.toFixed(3)}, expert step on its own threads ${expertStep.toFixed(3)} (${(expertStep / alone).toFixed(2)} of the target's)`);
  console.log(`  ceilings from pass costs alone (zero overhead, acceptance ${a.toFixed(3)}):`);
  console.log(`    sequential: ${sequential.toFixed(3)} (measured ${(rates[3] / best).toFixed(3)}); speculative: ${spec.ratio.toFixed(3)} at k = ${spec.k} (measured ${(rates[5] / best).toFixed(3)})`);
  const ks = [0, 1, 2, 3, 4];
  const alt = await alternatingMs(targetAll, expertOwn, ks);
  let altSpec = { k: 0, ratio: 0 };
  for (const [i, k] of ks.entries()) {
    const ratio = alt.alone / (alt.rounds[i] / DraftLengthChooser.tokensPerRound(k, a));
    if (k > 0 && ratio > altSpec.ratio) altSpec = { k, ratio };
  }
  console.log(
    `  models alternating (median of 60, ms): target alone ${alt.alone.toFixed(3)}/token; round of k + 1 expert steps and the target's k + 1 tokens: ` +
      ks.map((k, i) => `k=${k}:${alt.rounds[i].toFixed(3)}`).join(" "),
  );
  console.log(
    `    ceilings with that alternation: one model after the other ${(alt.alone / alt.rounds[0]).toFixed(3)}; speculative ${altSpec.ratio.toFixed(3)} at k = ${altSpec.k}`,
  );
  const dec = await decisionUs(targetAll, expertOwn);
  console.log(
    `  a decision right after its passes / repeated at once (median µs): cosec-plus ${dec["cosec-plus"].cold.toFixed(1)} / ${dec["cosec-plus"].hot.toFixed(1)}, ` +
      `target ${dec.target.cold.toFixed(1)} / ${dec.target.hot.toFixed(1)}`,
  );
}

const list = await pairs();
if (!values["skip-logits"] && list.length > 0) await benchLogits(list[0].target);
for (const p of list) await benchDecoding(p);
