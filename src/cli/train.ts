// `cosec train <phase> [options]`: runs the Python trainer, showing its progress on stderr.
// Options after the phase go to `python -m cosec_trainer <phase>` unchanged, except the few
// handled here (--processes, --json, --log).
import { InvalidArgumentError } from "../errors.ts";
import type { TrainerEvent } from "../train/events.ts";
import { ProgressBar } from "../train/progress-bar.ts";
import { PHASES, runTrainer, type Phase } from "../train/run-trainer.ts";

const HELP = `usage: cosec train <phase> [options]

phases:
  create     create a fresh model folder from a size preset (tiny, 4m, 25m, 100m; llama or qwen2)
  pretrain   causal LM training on text/code files, folders, or JSONL with a "text" field
  distill    phase 1: distil a teacher into a student with the same tokenizer (fkl / rkl [+ CE])
  security   phase 2: LoRA security expert on SVEN pairs (CE on changed tokens + KL elsewhere)
  export     write GGUF (F32/F16/BF16/Q8_0/Q4_0) from a run checkpoint, a model folder or a PEFT adapter

options handled by cosec (everything else is passed to the trainer):
  --processes N   data-parallel training under torchrun with N processes (gloo on CPU, nccl on CUDA)
  --json          print the trainer's JSON-lines events on stdout instead of a progress bar
  --log           also show the trainer's log lines (stderr)

Run \`cosec train <phase> --help\` for the phase's options. Common ones: --run-dir DIR,
--steps N, --batch-size N, --lr X, --eval-every N, --save-every N, --resume, --seed N, --device,
--precision auto|fp32|bf16 (auto: bf16 mixed precision on CUDA and on CPUs with native bf16).`;

interface Own {
  processes: number;
  json: boolean;
  log: boolean;
  rest: string[];
}

function takeOwnOptions(argv: string[]): Own {
  const own: Own = { processes: 1, json: false, log: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") own.json = true;
    else if (a === "--log") own.log = true;
    else if (a === "--processes" || a.startsWith("--processes=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("--processes", `expected a positive integer, got ${v ?? "nothing"}`);
      own.processes = n;
    } else own.rest.push(a);
  }
  return own;
}

function describe(e: TrainerEvent): string | null {
  switch (e.event) {
    case "start":
      return `${e.phase}: ${e.trainable_params.toLocaleString("en-US")} trainable parameters, ${e.world} process(es), steps ${e.start_step + 1}..${e.steps}`;
    case "eval": {
      const { event: _e, step, ...rest } = e;
      const vals = Object.entries(rest)
        .filter(([, v]) => typeof v === "number")
        .map(([k, v]) => `${k} ${(v as number).toFixed(4)}`);
      return `eval @ step ${step}: ${vals.join("  ")}`;
    }
    case "checkpoint":
      return `checkpoint: ${e.path}`;
    case "done":
      return typeof e.path === "string" ? `wrote ${e.path}` : "done";
    default:
      return null;
  }
}

export async function run(argv: string[]): Promise<number> {
  const [phase, ...args] = argv;
  if (!phase || phase === "--help" || phase === "-h") {
    console.log(HELP);
    return phase ? 0 : 2;
  }
  if (!(PHASES as readonly string[]).includes(phase)) {
    throw new InvalidArgumentError("phase", `unknown phase '${phase}'; expected one of ${PHASES.join(", ")}`);
  }
  const own = takeOwnOptions(args);
  if (own.rest.includes("--help") || own.rest.includes("-h")) own.log = true; // argparse prints help on stdout
  const bar = new ProgressBar(process.stderr);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  try {
    await runTrainer(phase as Phase, own.rest, {
      processes: own.processes,
      signal: controller.signal,
      onEvent: (e) => {
        if (own.json) return void process.stdout.write(JSON.stringify(e) + "\n");
        if (e.event === "progress") return bar.update(e);
        const text = describe(e);
        if (text) {
          bar.break();
          process.stderr.write(text + "\n");
        }
      },
      onLog: (line, stream) => {
        if (stream === "stdout") process.stdout.write(line + "\n");
        else if (own.log) {
          bar.break();
          process.stderr.write(line + "\n");
        }
      },
    });
    bar.break();
    return 0;
  } catch (err) {
    bar.break();
    if (controller.signal.aborted) {
      process.stderr.write("cosec train: interrupted; continue with --resume\n");
      return 130;
    }
    throw err;
  } finally {
    process.off("SIGINT", stop);
  }
}
