// Starts the Python trainer (`python -m cosec_trainer <phase> ...`, optionally under torchrun),
// streams its JSON-lines events and resolves with them; a failure rejects with the trainer's own
// error message (its "error" event) or the tail of its stderr.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { CosecError } from "../errors.ts";
import { repoRoot, venvPython } from "../paths.ts";
import { LineSplitter, parseEventLine, type TrainerEvent } from "./events.ts";

export class TrainerFailedError extends CosecError {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

export const PHASES = ["create", "pretrain", "distill", "security", "export"] as const;
export type Phase = (typeof PHASES)[number];

export interface RunTrainerOptions {
  onEvent?: (e: TrainerEvent) => void;
  /** Non-protocol stdout lines and every stderr line (the trainer's logs). */
  onLog?: (line: string, stream: "stdout" | "stderr") => void;
  /** Data-parallel processes under torchrun (gloo on CPU, nccl on CUDA); 1 = plain python. */
  processes?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  python?: string;
}

export function trainerCommand(phase: Phase, args: string[], processes = 1, python = venvPython()): { cmd: string; args: string[] } {
  const module = ["-m", "cosec_trainer", phase, ...args];
  if (processes > 1) {
    return { cmd: python, args: ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", String(processes), ...module] };
  }
  return { cmd: python, args: module };
}

export function runTrainer(phase: Phase, args: string[], opts: RunTrainerOptions = {}): Promise<TrainerEvent[]> {
  const python = opts.python ?? venvPython();
  if (!existsSync(python)) {
    return Promise.reject(new TrainerFailedError(`Python environment not found at ${python}; run \`npm run setup\``, null));
  }
  const { cmd, args: argv } = trainerCommand(phase, args, opts.processes ?? 1, python);
  const env = {
    ...process.env,
    ...opts.env,
    PYTHONPATH: [join(repoRoot, "trainer"), process.env.PYTHONPATH].filter(Boolean).join(delimiter),
    PYTHONUNBUFFERED: "1",
  };
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"], signal: opts.signal });
    const events: TrainerEvent[] = [];
    let stderrTail = "";
    const out = new LineSplitter();
    const err = new LineSplitter();
    const onOut = (line: string) => {
      const ev = parseEventLine(line);
      if (ev) {
        events.push(ev);
        opts.onEvent?.(ev);
      } else if (line.trim()) opts.onLog?.(line, "stdout");
    };
    const onErr = (line: string) => {
      stderrTail = (stderrTail + line + "\n").slice(-4000);
      opts.onLog?.(line, "stderr");
    };
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (c: string) => out.push(c).forEach(onOut));
    child.stderr.on("data", (c: string) => err.push(c).forEach(onErr));
    child.on("error", (e) => reject(new TrainerFailedError(`could not start ${cmd}: ${e.message}`, null)));
    child.on("close", (code, sig) => {
      out.flush().forEach(onOut);
      err.flush().forEach(onErr);
      if (code === 0) return resolve(events);
      const reported = events.find((e) => e.event === "error");
      const message = reported && "message" in reported ? reported.message : stderrTail.trim().split("\n").slice(-12).join("\n");
      reject(new TrainerFailedError(`trainer ${phase} failed (${sig ?? `exit ${code}`}): ${message}`, code));
    });
  });
}
