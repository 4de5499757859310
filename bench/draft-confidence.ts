// Does the expert's confidence in its proposal predict whether the rule keeps it? Decodes the SVEN
// scenarios' prompts with cosec-plus (sequential), recording at each position the proposal's
// probability under the expert's warped distribution and whether the rule kept it, and prints the
// acceptance by confidence bucket. A draft-stopping rule on the expert's confidence (llama.cpp's
// p_min) pays only where that acceptance falls with the confidence. Also: how often the token the
// rule draws on a rejection (Gumbel-max on the target's raw distribution, keyed by the position)
// equals the same draw on the expert's raw distribution, i.e. how often a second draft branch
// predicted from the expert alone would carry on past a rejection (a draft tree's best case).
//   node --import tsx bench/draft-confidence.ts [--target T --expert E --expert-lora L] [--samples N] [--max-tokens N]
import { parseArgs } from "node:util";
import { CosecPlusStrategy } from "../src/decoding/strategies/cosec-plus.ts";
import { resolveDecodingSettings } from "../src/decoding/settings.ts";
import { sampleFull } from "../src/decoding/warpers.ts";
import type { Choice, ModelLogits, PositionRng, Proposal, Strategy } from "../src/decoding/types.ts";
import { loadScenarios } from "../src/eval/scenarios.ts";
import { Engine } from "../src/generate/engine.ts";

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "models/demo/target.gguf" },
    expert: { type: "string", default: "models/demo/expert.gguf" },
    "expert-lora": { type: "string", default: "models/demo/expert-security-lora.gguf" },
    samples: { type: "string", default: "2" },
    "max-tokens": { type: "string", default: "96" },
  },
});

const base = resolveDecodingSettings({ strategy: "cosec-plus" }, { hasExpert: true });
const inner = base.strategy as CosecPlusStrategy;
const seen: { p: number; kept: boolean; guessed: boolean }[] = [];
// The rule itself, watched: same proposals, same choices.
const watched: Strategy = {
  name: "cosec-plus",
  models: inner.models,
  propose: (row: Float32Array, rng: PositionRng) => inner.propose(row, rng),
  choose(logits: ModelLogits, rng: PositionRng, proposal?: Proposal): Choice {
    const p = proposal ?? inner.propose(logits.expert!, rng);
    const c = inner.choose(logits, rng, p);
    // The fallback's own draw (cosec-plus.ts: sampleFull on the target's raw logits under the "target" key), on the expert's logits.
    const guess = sampleFull(logits.expert!, rng.key("target")).token;
    seen.push({ p: Math.exp(p.logprob), kept: c.source === "expert", guessed: c.source !== "expert" && guess === c.token });
    return c;
  },
};
const decoding = resolveDecodingSettings({ strategy: watched, speculative: false }, { hasExpert: true });
const engine = await Engine.load({ target: values.target, expert: values.expert, expertLora: values["expert-lora"], maxSequences: 1 });
try {
  const { scenarios } = loadScenarios();
  for (const s of scenarios) {
    for (let i = 0; i < Number(values.samples); i++) {
      await engine.generate(s.prompt, { decoding, seed: 1, firstSample: i, maxTokens: Number(values["max-tokens"]) });
    }
  }
} finally {
  await engine.dispose();
}
const edges = [0, 0.3, 0.5, 0.7, 0.9, 0.99, 1.0001];
const rejected = seen.filter((x) => !x.kept);
console.log(`${seen.length} positions, ${(seen.filter((x) => x.kept).length / seen.length).toFixed(3)} kept`);
console.log(`rejections whose drawn token equals the same draw on the expert's raw distribution: ${rejected.filter((x) => x.guessed).length} of ${rejected.length}`);
console.log("expert p(proposal)   positions  share   kept");
for (let b = 0; b + 1 < edges.length; b++) {
  const xs = seen.filter((x) => x.p >= edges[b] && x.p < edges[b + 1]);
  if (xs.length === 0) continue;
  const kept = xs.filter((x) => x.kept).length / xs.length;
  console.log(`[${edges[b].toFixed(2)}, ${Math.min(1, edges[b + 1]).toFixed(2)})`.padEnd(21) + String(xs.length).padStart(9) + (xs.length / seen.length).toFixed(3).padStart(7) + kept.toFixed(3).padStart(7));
}
