// Pretraining throughput: the cosec trainer loop vs a minimal plain PyTorch loop on the same model
// and batches, measured in one run (trainer/cosec_trainer/bench.py). Goal: ratio >= 0.9.
//   node --import tsx bench/train.ts [--size 25m] [--batch-size 4] [--block 128] [--steps 8] [--rounds 2]
import { launchTrainer } from "../src/train/launch.ts";

const args = process.argv.slice(2);
// bench.py prints its result as the last stdout line (a JSON object, not a progress event).
const stdout: string[] = [];
try {
  await launchTrainer("cosec_trainer.bench", args, {
    onLog: (line, stream) => (stream === "stdout" ? stdout.push(line) : process.stderr.write(line + "\n")),
  });
} catch (e) {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exit(1);
}
const line = stdout.at(-1)?.trim() ?? "{}";
const res = JSON.parse(line) as { size: string; device: string; plain_tokens_per_s: number; cosec_tokens_per_s: number; ratio: number; median_ratio: number };
console.log(
  `train bench (${res.size}, ${res.device}): plain ${res.plain_tokens_per_s} tok/s, cosec ${res.cosec_tokens_per_s} tok/s, ` +
    `ratio ${res.ratio} (median ${res.median_ratio}; goal >= 0.9)`,
);
console.log(line);
