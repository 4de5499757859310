// How well a pair fills in the middle: Python programs with one body line removed at the cursor
// (after the line's indentation, as an editor sends it), each filled from its prefix and suffix
// (the target's FIM prompt, as /infill builds it) and, for comparison, completed from the prefix
// alone (a left-to-right model's only option), keeping the first line either way. Measured: the
// share of programs that parse with that line put back, and the share whose line equals the removed
// one (whitespace aside). bench/fim-quality.ts prints it.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Engine } from "../generate/engine.ts";
import type { FimOrder } from "../generate/fim.ts";
import type { StrategyName } from "../decoding/strategies/index.ts";
import { repoRoot, venvPython } from "../paths.ts";
import { mulberry32 } from "./stats.ts";
import { checkValidity } from "./validity.ts";

export interface FillCase {
  prefix: string;
  /** The removed line, without its indentation (which ends the prefix). */
  line: string;
  suffix: string;
}

export interface FillMode {
  name: string;
  /** Fill from prefix and suffix (true), or complete from the prefix alone. */
  fim: boolean;
  strategy: StrategyName;
}

export const FILL_MODES: readonly FillMode[] = [
  { name: "fill, target alone", fim: true, strategy: "target" },
  { name: "fill, cosec-plus", fim: true, strategy: "cosec-plus" },
  { name: "prefix only, target alone", fim: false, strategy: "target" },
];

export interface FillScore {
  mode: FillMode;
  parses: number;
  exact: number;
}

/** Removes the indentation all non-blank lines share (methods cut out of their class). */
function dedent(src: string): string {
  const lines = src.split("\n");
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(Math.min(indent, l.match(/^ */)![0].length))).join("\n");
}

/**
 * Python programs of the trainer's writer (trainer/cosec_trainer/synth_code.py) under a seed no
 * corpus used (the demo's corpus uses its build seed, 0): the kind of code the demo family learns.
 */
export function syntheticPrograms(count: number, seed: number): string[] {
  const code = `import json, random, sys; sys.path.insert(0, "trainer")
from cosec_trainer import synth_code as sc
r = random.Random(${1_000_003 + seed})
print(json.dumps([sc.python_program(r, sc.INSECURE_SHARE) for _ in range(${count})]))`;
  return JSON.parse(execFileSync(venvPython(), ["-c", code], { cwd: repoRoot, encoding: "utf8" })) as string[];
}

/** The fixed versions of SVEN's val Python functions, dedented (real-world code the family never trains on). */
export function svenValFunctions(dataRoot: string): string[] {
  const dir = join(dataRoot, "datasets", "sven", "data_train_val", "val");
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
 * Up to `n` cases: each program that parses on its own gives up to `perProgram` body lines (not the
 * first line, a comment or a blank) removed in turn, chosen by `seed`, then a seeded shuffle.
 */
export async function fillCases(sources: readonly string[], n: number, seed: number, perProgram = 3): Promise<FillCase[]> {
  const rand = mulberry32(seed);
  const out: FillCase[] = [];
  for (const src of sources) {
    if (!(await checkValidity("py", src)).valid) continue;
    const lines = src.split("\n");
    const body = lines.map((_, i) => i).filter((i) => i > 0 && lines[i].trim() && !lines[i].trim().startsWith("#") && lines[i].length < 120);
    for (let t = 0; t < perProgram && body.length > 0; t++) {
      const i = body.splice(Math.floor(rand() * body.length), 1)[0];
      const indent = lines[i].match(/^\s*/)![0];
      out.push({ prefix: [...lines.slice(0, i), indent].join("\n"), line: lines[i].slice(indent.length), suffix: `\n${lines.slice(i + 1).join("\n")}` });
    }
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out.slice(0, n);
}

/**
 * Each case filled (or completed) once per mode, sampled with the engine's defaults and seed = case
 * index; fills in the FIM layout `order`, by default the engine's (the one the target was trained with).
 */
export async function scoreFills(engine: Engine, cases: readonly FillCase[], modes: readonly FillMode[] = FILL_MODES, maxTokens = 32, order?: FimOrder): Promise<FillScore[]> {
  const norm = (s: string) => s.replace(/\s+/g, " ").trim();
  const scores: FillScore[] = [];
  for (const mode of modes) {
    const score: FillScore = { mode, parses: 0, exact: 0 };
    for (const [k, c] of cases.entries()) {
      const prompt = mode.fim ? engine.fimPrompt({ prefix: c.prefix, suffix: c.suffix, order }) : engine.tokenizer.tokenize(c.prefix);
      const [r] = await engine.generate(prompt, { decoding: { strategy: mode.strategy }, maxTokens, seed: k, stop: ["\n"] });
      const line = r.text.split("\n")[0];
      if ((await checkValidity("py", c.prefix + line + c.suffix)).valid) score.parses++;
      if (norm(line) === norm(c.line)) score.exact++;
    }
    scores.push(score);
  }
  return scores;
}

/** How many cases parse with the hole left empty: the floor a fill must beat to have added anything. */
export async function emptyHoleParses(cases: readonly FillCase[]): Promise<number> {
  let n = 0;
  for (const c of cases) if ((await checkValidity("py", c.prefix + c.suffix)).valid) n++;
  return n;
}
