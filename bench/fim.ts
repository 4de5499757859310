// Fill-in-the-middle latency, measured in one run: a 256-token prefix and a 128-token suffix (FIM
// prompt from the target's own tokens), 32 new tokens; time to the first token and to the last,
// the target alone against cosec-plus co-decoding (sequential and speculative), and a second
// request whose prefix is the first one's typed on by a few characters (what an editor sends next),
// which starts from the prompt cache.
//   node --import tsx bench/fim.ts [--target T.gguf --expert E.gguf [--expert-lora A.gguf]] [--repeats 5]
// Default pair: the test fixtures with Qwen2.5-Coder's FIM tokens (random weights: timings only);
// the shipped demo family (models/demo) has FIM tokens too.
import { parseArgs } from "node:util";
import { Engine } from "../src/generate/engine.ts";
import type { GenerateOptions } from "../src/generate/types.ts";
import { ensureFixtures } from "../test/helpers/fixtures.ts";
import { median } from "./lib/stats.ts";

const { values } = parseArgs({
  options: {
    target: { type: "string" },
    expert: { type: "string" },
    "expert-lora": { type: "string" },
    repeats: { type: "string", default: "5" },
  },
});
const f = values.target ? null : await ensureFixtures();
const target = values.target ?? f!.targetFim;
const expert = values.expert ?? f!.expertFim;
const engine = await Engine.load({ target, expert, expertLora: values["expert-lora"], gpu: "cpu", contextSize: 1024, promptCache: true });
const alone = await Engine.load({ target, gpu: "cpu", contextSize: 1024, promptCache: true });

/** Code of about n tokens for this tokenizer. */
function codeOf(tokens: number, seed: number): string {
  let s = "";
  for (let i = 0; engine.tokenizer.tokenize(s, { addBos: false }).length < tokens; i++) s += `    value_${seed}_${i} = compute(value_${seed}_${i - 1}, ${i})\n`;
  const ids = engine.tokenizer.tokenize(s, { addBos: false }).slice(0, tokens);
  return engine.tokenizer.detokenize(ids);
}
const prefix = `def pipeline(data):\n${codeOf(250, 1)}`;
const suffix = `\n${codeOf(128, 2)}    return result\n`;
// A pair without FIM tokens (the shipped demo family) is timed on the same tokens without them:
// the latency is the prompt's length, not its control tokens.
const hasFim = engine.target.vocab.special.fimPrefix !== null;
const promptFor = (p: string) => (hasFim ? engine.fimPrompt({ prefix: p, suffix }) : engine.tokenizer.tokenize(p + suffix, { addBos: false }));
const prompt = promptFor(prefix);
const typedOn = promptFor(`${prefix}    total = `);
console.log(
  `${hasFim ? "FIM prompt" : "prompt (this pair has no FIM tokens: prefix + suffix as plain text)"}: ${prompt.length} tokens (256-token prefix, 128-token suffix), 32 new tokens`,
);

async function timed(e: Engine, opts: GenerateOptions, seed: number, p = prompt): Promise<{ firstMs: number; totalMs: number; cached: number }> {
  const t0 = performance.now();
  let first = -1;
  const [r] = await e.generate(p, { ...opts, maxTokens: 32, seed, ignoreEos: true, onToken: (ev) => void (first < 0 && ev.token >= 0 && (first = performance.now() - t0)) });
  return { firstMs: first, totalMs: performance.now() - t0, cached: r.timing.cachedPromptTokens };
}

const modes: [string, Engine, GenerateOptions][] = [
  ["target alone", alone, { decoding: { strategy: "target" } }],
  ["cosec-plus sequential", engine, { decoding: { strategy: "cosec-plus", speculative: false } }],
  ["cosec-plus speculative", engine, { decoding: { strategy: "cosec-plus", speculative: true } }],
];
for (const [, e, o] of modes) await timed(e, o, 99); // warm-up
const rows: { name: string; first: number; second: number; total: number; cached: number }[] = [];
const firsts = modes.map(() => [] as number[]);
const seconds = modes.map(() => [] as number[]);
const totals = modes.map(() => [] as number[]);
const cachedTokens = modes.map(() => [] as number[]);
// Modes take turns, so drift in the machine's speed falls on all alike.
for (let r = 0; r < Number(values.repeats); r++) {
  for (const [m, [, e, o]] of modes.entries()) {
    const a = await timed(e, { ...o, cachePrompt: false }, r); // nothing cached
    await e.generate(prompt, { ...o, maxTokens: 32, seed: r, ignoreEos: true }); // kept in the prompt cache
    const b = await timed(e, o, r + 1000, typedOn); // the prefix typed on: the tokens up to the edit are cached
    cachedTokens[m].push(b.cached);
    firsts[m].push(a.firstMs);
    seconds[m].push(b.firstMs);
    totals[m].push(a.totalMs);
  }
}
for (const [m, [name]] of modes.entries()) rows.push({ name, first: median(firsts[m]), second: median(seconds[m]), total: median(totals[m]), cached: median(cachedTokens[m]) });
for (const r of rows) {
  console.log(
    `  ${r.name.padEnd(24)} first token ${r.first.toFixed(1).padStart(7)} ms; typed on: ${r.second.toFixed(1).padStart(7)} ms (${r.cached} of ${typedOn.length} prompt tokens cached); 32 tokens ${r.total.toFixed(1).padStart(7)} ms`,
  );
}
const base = rows[0].first;
console.log("  first token, ratio to the target alone:");
for (const r of rows.slice(1)) console.log(`    ${r.name.padEnd(24)} ${(r.first / base).toFixed(2)}  (goal <= 1.2)`);
console.log("  first token of the typed-on request, ratio to its uncached first token:");
for (const r of rows) console.log(`    ${r.name.padEnd(24)} ${(r.second / r.first).toFixed(2)}`);
await Promise.all([engine.dispose(), alone.dispose()]);
