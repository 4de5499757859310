// How well a pair fills in the middle (not a test): held-out Python functions (SVEN's val split,
// fixed versions, dedented: the demo family never trains on them) with one line of the body removed. Each
// is filled from its prefix and suffix (the target's FIM prompt, as /infill builds it; the target
// alone and co-decoded with cosec-plus) and, for comparison, completed from the prefix alone (a
// left-to-right model's only option), keeping the first line either way. Reported: the share of
// programs that parse with the line put back, and the share whose line equals the removed one
// (whitespace aside). `--source synthetic` takes the programs instead from the trainer's program
// writer (trainer/cosec_trainer/synth_code.py) under a seed the demo's corpus never used: the kind
// of code the demo family was trained on, where a fill that reads the suffix can name what follows.
//   node --import tsx bench/fim-quality.ts --target T.gguf --expert E.gguf [--expert-lora A.gguf] [--cases 60] [--seed 1]
//        [--source sven|synthetic]
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { mulberry32 } from "../src/eval/stats.ts";
import { checkValidity } from "../src/eval/validity.ts";
import { closeSharedPythonWorker } from "../src/eval/python-worker.ts";
import { Engine } from "../src/generate/engine.ts";
import { dataRoot, repoRoot, venvPython } from "../src/paths.ts";

const { values } = parseArgs({
  options: {
    target: { type: "string" },
    expert: { type: "string" },
    "expert-lora": { type: "string" },
    cases: { type: "string", default: "60" },
    seed: { type: "string", default: "1" },
    "max-tokens": { type: "string", default: "32" },
    source: { type: "string", default: "sven" },
  },
});
if (!values.target || !values.expert) throw new Error("give --target and --expert (a pair with FIM tokens, e.g. a family built with fimRate > 0)");

interface Case {
  prefix: string;
  line: string;
  suffix: string;
}

/** Removes the indentation all non-blank lines share (methods cut out of their class). */
function dedent(src: string): string {
  const lines = src.split("\n");
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(Math.min(indent, l.match(/^ */)![0].length))).join("\n");
}

/** Python programs of the trainer's writer under a seed no corpus used (the demo's is its build seed, 0). */
function syntheticSources(count: number, seed: number): string[] {
  const code = `import json, random, sys; sys.path.insert(0, "trainer")
from cosec_trainer import synth_code as sc
r = random.Random(${1_000_003 + seed})
print(json.dumps([sc.python_program(r, sc.INSECURE_SHARE) for _ in range(${count})]))`;
  return JSON.parse(execFileSync(venvPython(), ["-c", code], { cwd: repoRoot, encoding: "utf8" })) as string[];
}

function svenSources(): string[] {
  const dir = join(dataRoot(), "datasets", "sven", "data_train_val", "val");
  const out: string[] = [];
  for (const cwe of ["cwe-022", "cwe-078", "cwe-079", "cwe-089"]) {
    for (const l of readFileSync(join(dir, `${cwe}.jsonl`), "utf8").split("\n").filter(Boolean)) {
      const rec = JSON.parse(l) as { func_src_after: string; file_name: string };
      if (rec.file_name.endsWith(".py")) out.push(dedent(rec.func_src_after));
    }
  }
  return out;
}

/**
 * Python functions of SVEN's val split that parse on their own, each with up to `perFunction` body
 * lines (not the signature, a comment or a blank) removed in turn, chosen by `seed`.
 */
async function cases(sources: readonly string[], n: number, seed: number, perFunction = 3): Promise<Case[]> {
  const rand = mulberry32(seed);
  const out: Case[] = [];
  for (const src of sources) {
    if (!(await checkValidity("py", src)).valid) continue;
    const lines = src.split("\n");
    const body = lines.map((_, i) => i).filter((i) => i > 0 && lines[i].trim() && !lines[i].trim().startsWith("#") && lines[i].length < 120);
    for (let t = 0; t < perFunction && body.length > 0; t++) {
      const i = body.splice(Math.floor(rand() * body.length), 1)[0];
      // The removed line starts after its indentation: the fill writes the code, as at a cursor.
      const indent = lines[i].match(/^\s*/)![0];
      out.push({ prefix: [...lines.slice(0, i), indent].join("\n"), line: lines[i].slice(indent.length), suffix: `\n${lines.slice(i + 1).join("\n")}` });
    }
  }
  // A seeded shuffle, then the first n.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out.slice(0, n);
}

const engine = await Engine.load({ target: values.target, expert: values.expert, expertLora: values["expert-lora"], gpu: "cpu", contextSize: 2048 });
if (engine.target.vocab.special.fimPrefix === null) throw new Error(`${values.target} has no FIM tokens`);
const maxTokens = Number(values["max-tokens"]);
if (values.source !== "sven" && values.source !== "synthetic") throw new Error(`--source ${values.source}: sven or synthetic`);
const sources = values.source === "sven" ? svenSources() : syntheticSources(Number(values.cases), Number(values.seed));
const list = await cases(sources, Number(values.cases), Number(values.seed));
const modes = [
  { name: "fill, target alone", fim: true, strategy: "target" },
  { name: "fill, cosec-plus", fim: true, strategy: "cosec-plus" },
  { name: "prefix only, target alone", fim: false, strategy: "target" },
] as const;
const firstLine = (s: string) => s.split("\n")[0];
const norm = (s: string) => s.replace(/\s+/g, " ").trim();
const from = values.source === "sven" ? "held-out Python functions (SVEN val, fixed versions)" : "Flask programs of the trainer's writer (held-out seed)";
console.log(`${list.length} cases from ${from}, one body line removed each; up to ${maxTokens} tokens, seed ${values.seed}`);
for (const m of modes) {
  let parses = 0;
  let exact = 0;
  for (const [k, c] of list.entries()) {
    const prompt = m.fim ? engine.fimPrompt({ prefix: c.prefix, suffix: c.suffix }) : engine.tokenizer.tokenize(c.prefix);
    const [r] = await engine.generate(prompt, { decoding: { strategy: m.strategy }, maxTokens, seed: k, stop: ["\n"] });
    const line = firstLine(r.text);
    if ((await checkValidity("py", c.prefix + line + c.suffix)).valid) parses++;
    if (norm(line) === norm(c.line)) exact++;
  }
  console.log(`  ${m.name.padEnd(28)} parses ${((100 * parses) / list.length).toFixed(1).padStart(5)}%   exact line ${((100 * exact) / list.length).toFixed(1).padStart(5)}%`);
}
// The reference point: the removed line left out (the hole is empty).
let emptyParses = 0;
for (const c of list) if ((await checkValidity("py", c.prefix + c.suffix)).valid) emptyParses++;
console.log(`  ${"nothing filled".padEnd(28)} parses ${((100 * emptyParses) / list.length).toFixed(1).padStart(5)}%`);
closeSharedPythonWorker();
await engine.dispose();
