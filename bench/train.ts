// Pretraining throughput: the cosec trainer loop vs a minimal plain PyTorch loop on the same model
// and batches, measured in one run (trainer/cosec_trainer/bench.py). Goal: ratio >= 0.9.
//   node --import tsx bench/train.ts [--size 25m] [--batch-size 4] [--block 128] [--steps 8] [--rounds 2]
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot, venvPython } from "../src/paths.ts";

const args = process.argv.slice(2);
const r = spawnSync(venvPython(), ["-m", "cosec_trainer.bench", ...args], {
  cwd: repoRoot,
  env: { ...process.env, PYTHONPATH: join(repoRoot, "trainer") },
  encoding: "utf8",
  stdio: ["ignore", "pipe", "inherit"],
});
if (r.status !== 0) {
  console.error(`bench failed (exit ${r.status})`);
  process.exit(1);
}
const line = r.stdout.trim().split("\n").at(-1) ?? "{}";
const res = JSON.parse(line) as { size: string; device: string; plain_tokens_per_s: number; cosec_tokens_per_s: number; ratio: number; median_ratio: number };
console.log(
  `train bench (${res.size}, ${res.device}): plain ${res.plain_tokens_per_s} tok/s, cosec ${res.cosec_tokens_per_s} tok/s, ` +
    `ratio ${res.ratio} (median ${res.median_ratio}; goal >= 0.9)`,
);
console.log(line);
