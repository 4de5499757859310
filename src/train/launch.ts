// The one way the TypeScript side starts Python trainer code (`python -m cosec_trainer[.module]`,
// optionally under torchrun): it picks the interpreter, sets the environment, reads the JSON-lines
// events on stdout (checked against trainer/contract.json), forwards the logs, and turns every way
// the process can end into a named error.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { repoRoot, venvPython } from "../paths.ts";
import { trainerContract } from "./contract.ts";
import { TrainerFailedError, TrainerInterruptedError, TrainerStartError } from "./errors.ts";
import { LineSplitter, parseEventLine, type TrainerEvent } from "./events.ts";

export const TRAINER_PACKAGE = "cosec_trainer";

export interface LaunchOptions {
  onEvent?: (e: TrainerEvent) => void;
  /** stdout lines that are not protocol events, and every stderr line (the trainer's logs). */
  onLog?: (line: string, stream: "stdout" | "stderr") => void;
  /** Data-parallel processes under torchrun (gloo on CPU, nccl on CUDA); 1 = plain python. */
  processes?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Interpreter; default the set-up's venv (COSEC_PYTHON overrides it). */
  python?: string;
  /** The data folder the trainer's own defaults should use (passed as the contract's variable). */
  dataRoot?: string;
}

/** The command line for `python -m <module> <args>`, under torchrun for several processes. */
export function pythonCommand(module: string, args: string[], processes = 1, python = venvPython()): { cmd: string; args: string[] } {
  const m = ["-m", module, ...args];
  if (processes > 1) {
    return { cmd: python, args: ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", String(processes), ...m] };
  }
  return { cmd: python, args: m };
}

/** The child's environment: the trainer package importable, unbuffered output, the data root. */
export function trainerEnv(opts: Pick<LaunchOptions, "env" | "dataRoot"> = {}): NodeJS.ProcessEnv {
  const base = { ...process.env, ...opts.env };
  const env: NodeJS.ProcessEnv = {
    ...base,
    PYTHONPATH: [join(repoRoot, "trainer"), base.PYTHONPATH].filter(Boolean).join(delimiter),
    PYTHONUNBUFFERED: "1",
  };
  if (opts.dataRoot !== undefined) env[trainerContract().dataRoot.env] = opts.dataRoot;
  return env;
}

/** "pretrain" for the trainer's phases, "fixtures" or "demo_data corpus" for its other modules. */
function describe(module: string, args: string[]): string {
  const sub = module === TRAINER_PACKAGE ? "" : module.replace(`${TRAINER_PACKAGE}.`, "");
  return [sub, args[0] ?? ""].filter(Boolean).join(" ");
}

/** Runs `python -m <module> <args>` and resolves with its events once it exits 0. */
export function launchTrainer(module: string, args: string[], opts: LaunchOptions = {}): Promise<TrainerEvent[]> {
  const python = opts.python ?? venvPython();
  const what = `trainer ${describe(module, args)}`;
  if (!existsSync(python)) {
    return Promise.reject(new TrainerStartError(`Python environment not found at ${python}; run \`npm run setup\` (or set COSEC_PYTHON)`));
  }
  let env: NodeJS.ProcessEnv;
  try {
    env = trainerEnv(opts);
  } catch (e) {
    return Promise.reject(e);
  }
  const { cmd, args: argv } = pythonCommand(module, args, opts.processes ?? 1, python);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"], signal: opts.signal });
    const events: TrainerEvent[] = [];
    let stderrTail = "";
    // A bad event line or a throwing callback: the child is stopped and this is the rejection.
    let failure: unknown = null;
    const out = new LineSplitter();
    const err = new LineSplitter();
    const fail = (e: unknown) => {
      if (failure !== null) return;
      failure = e;
      child.kill("SIGTERM");
    };
    const onOut = (line: string) => {
      if (failure !== null) return;
      try {
        const ev = parseEventLine(line);
        if (ev) {
          events.push(ev);
          opts.onEvent?.(ev);
        } else if (line.trim()) opts.onLog?.(line, "stdout");
      } catch (e) {
        fail(e);
      }
    };
    const onErr = (line: string) => {
      stderrTail = (stderrTail + line + "\n").slice(-8000);
      if (failure !== null) return;
      try {
        opts.onLog?.(line, "stderr");
      } catch (e) {
        fail(e);
      }
    };
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (c: string) => out.push(c).forEach(onOut));
    child.stderr.on("data", (c: string) => err.push(c).forEach(onErr));
    child.on("error", (e) => {
      if (opts.signal?.aborted) reject(new TrainerInterruptedError(`${what} interrupted; run the command again to resume`));
      else reject(new TrainerStartError(`could not start ${cmd}: ${e.message}`, { cause: e }));
    });
    child.on("close", (code, sig) => {
      out.flush().forEach(onOut);
      err.flush().forEach(onErr);
      if (failure !== null) return reject(failure);
      if (opts.signal?.aborted) return reject(new TrainerInterruptedError(`${what} interrupted; run the command again to resume`));
      if (code === 0) return resolve(events);
      const reported = events.find((e) => e.event === "error");
      const message = reported?.event === "error" ? reported.message : stderrTail.trim().split("\n").slice(-15).join("\n");
      const how = sig ?? `exit ${code}`;
      reject(new TrainerFailedError(`${what} failed (${how})${message.includes("\n") ? ":\n" : ": "}${message}`, code, sig));
    });
  });
}
