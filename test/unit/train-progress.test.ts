import assert from "node:assert/strict";
import { test } from "node:test";
import { TrainerProtocolError } from "../../src/train/errors.ts";
import { LineSplitter, parseEventLine, type ProgressEvent } from "../../src/train/events.ts";
import { formatDuration, formatRate, ProgressBar, renderProgress } from "../../src/train/progress-bar.ts";
import { trainerCommand } from "../../src/train/run-trainer.ts";

const ev = (step: number, steps = 100): ProgressEvent => ({
  event: "progress",
  step,
  steps,
  loss: 6.54321,
  lr: 3e-4,
  tokens_per_s: 12345.6,
  eta_s: 83,
});

test("parseEventLine returns protocol events, null for plain text, and refuses events the contract does not allow", () => {
  assert.deepEqual(parseEventLine(JSON.stringify(ev(3))), ev(3));
  assert.deepEqual(parseEventLine('{"event": "eval", "step": 2, "val_loss": 1.5, "pass_rate": 0.4}'), { event: "eval", step: 2, val_loss: 1.5, pass_rate: 0.4 });
  assert.equal(parseEventLine("Loading weights 100%"), null);
  assert.equal(parseEventLine('{"no_event": 1}'), null);
  assert.equal(parseEventLine("{broken"), null);
  const refused = (line: string, reason: RegExp) =>
    assert.throws(() => parseEventLine(line), (e: unknown) => e instanceof TrainerProtocolError && reason.test(e.message) && e.line === line);
  refused('{"event": "progress", "step": 3}', /event "progress": missing field "steps"/);
  refused('{"event": "telemetry"}', /unknown event "telemetry" \(the contract has start, progress/);
  refused(JSON.stringify({ ...ev(3), step: 3.5 }), /field "step" is 3.5, expected integer/);
  refused(JSON.stringify({ ...ev(3), loss: "low" }), /field "loss" is "low", expected number\|null/);
  refused(JSON.stringify({ ...ev(3), tok_s: 1 }), /field "tok_s" is not in the contract/);
  refused('{"event": "start", "phase": "p", "steps": 1, "start_step": 0, "trainable_params": 1, "world": 1, "precision": "fp8"}', /expected fp32 or bf16/);
});

test("LineSplitter keeps partial lines across chunks", () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('{"event":"a"}\n{"ev'), ['{"event":"a"}']);
  assert.deepEqual(s.push('ent":"b"}\nx'), ['{"event":"b"}']);
  assert.deepEqual(s.flush(), ["x"]);
  assert.deepEqual(s.flush(), []);
});

test("renderProgress shows step, loss, tokens/s and ETA", () => {
  assert.equal(renderProgress(ev(25), 8), "[##......] step 25/100  loss 6.5432  12.3k tok/s  ETA 1m23s");
  assert.equal(formatDuration(null), "--");
  assert.equal(formatDuration(3725), "1h02m");
  assert.equal(formatRate(950), "950 tok/s");
  assert.equal(formatRate(2.5e6), "2.50M tok/s");
});

test("ProgressBar prints about every 10% when not a terminal", () => {
  const lines: string[] = [];
  const bar = new ProgressBar({ write: (t) => void lines.push(t), isTTY: false });
  for (let s = 1; s <= 100; s++) bar.update(ev(s));
  assert.equal(lines.length, 11); // step 1, then every 10 steps, including the last
  assert.match(lines.at(-1) ?? "", /step 100\/100/);
});

test("ProgressBar redraws one line on a terminal", () => {
  const out: string[] = [];
  const bar = new ProgressBar({ write: (t) => void out.push(t), isTTY: true });
  bar.update(ev(1));
  bar.update(ev(2));
  bar.break();
  assert.equal(out.length, 3);
  assert.ok(out[0].startsWith("\r[") && out[2] === "\n");
});

test("trainerCommand uses torchrun for several processes", () => {
  assert.deepEqual(trainerCommand("pretrain", ["--steps", "2"], 1, "py").args, ["-m", "cosec_trainer", "pretrain", "--steps", "2"]);
  const multi = trainerCommand("security", [], 2, "py").args;
  assert.deepEqual(multi.slice(0, 5), ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]);
  assert.deepEqual(multi.slice(-3), ["-m", "cosec_trainer", "security"]);
});
