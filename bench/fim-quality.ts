// How well a pair fills in the middle (not a test; src/eval/fim-quality.ts has the method): held-out
// Python with one body line removed at the cursor, filled from prefix and suffix (the target alone
// and co-decoded with cosec-plus) and, for comparison, completed from the prefix alone; reported:
// the share of programs that parse with the first line put back, and of lines equal to the removed
// one. `--source sven` (default): SVEN's val functions, fixed versions, real-world code the demo
// family never trains on. `--source synthetic`: programs of the trainer's writer under a seed the
// demo's corpus never used, the kind of code the family learns, where a fill can name what follows.
//   node --import tsx bench/fim-quality.ts --target T.gguf --expert E.gguf [--expert-lora A.gguf] [--cases 60] [--seed 1]
//        [--source sven|synthetic] [--order psm|spm]   (default: the layout the target's GGUF records)
import { parseArgs } from "node:util";
import { emptyHoleParses, fillCases, scoreFills, svenValFunctions, syntheticPrograms } from "../src/eval/fim-quality.ts";
import { closeSharedPythonWorker } from "../src/eval/python-worker.ts";
import { Engine } from "../src/generate/engine.ts";
import type { FimOrder } from "../src/generate/fim.ts";
import { dataRoot } from "../src/paths.ts";

const { values } = parseArgs({
  options: {
    target: { type: "string" },
    expert: { type: "string" },
    "expert-lora": { type: "string" },
    cases: { type: "string", default: "60" },
    seed: { type: "string", default: "1" },
    "max-tokens": { type: "string", default: "32" },
    source: { type: "string", default: "sven" },
    order: { type: "string" },
  },
});
if (!values.target || !values.expert) throw new Error("give --target and --expert (a pair with FIM tokens, e.g. a family built with fimRate > 0)");

const engine = await Engine.load({ target: values.target, expert: values.expert, expertLora: values["expert-lora"], gpu: "cpu", contextSize: 2048 });
if (engine.target.vocab.special.fimPrefix === null) throw new Error(`${values.target} has no FIM tokens`);
const maxTokens = Number(values["max-tokens"]);
if (values.source !== "sven" && values.source !== "synthetic") throw new Error(`--source ${values.source}: sven or synthetic`);
const sources = values.source === "sven" ? svenValFunctions(dataRoot()) : syntheticPrograms(Number(values.cases), Number(values.seed));
const list = await fillCases(sources, Number(values.cases), Number(values.seed));
const from = values.source === "sven" ? "held-out Python functions (SVEN val, fixed versions)" : "Flask programs of the trainer's writer (held-out seed)";
console.log(`${list.length} cases from ${from}, one body line removed each; up to ${maxTokens} tokens, seed ${values.seed}`);
const pct = (n: number) => ((100 * n) / list.length).toFixed(1).padStart(5);
if (values.order !== undefined && values.order !== "psm" && values.order !== "spm") throw new Error(`--order ${values.order}: psm or spm`);
const order = values.order as FimOrder | undefined;
console.log(`fills laid out ${(order ?? engine.fimOrder) === "spm" ? "suffix first (spm)" : "prefix first (psm)"}`);
for (const s of await scoreFills(engine, list, undefined, maxTokens, order)) {
  console.log(`  ${s.mode.name.padEnd(28)} parses ${pct(s.parses)}%   exact line ${pct(s.exact)}%`);
}
console.log(`  ${"nothing filled".padEnd(28)} parses ${pct(await emptyHoleParses(list))}%`);
closeSharedPythonWorker();
await engine.dispose();
