// Runs a trainer module (`python -m cosec_trainer...`) and reads its JSON-lines events from stdout
// (the trainer's progress protocol); stderr is kept for the error message.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { CosecError } from "../errors.ts";
import { repoRoot, venvPython } from "../paths.ts";

export class TrainerProcessError extends CosecError {}

export type TrainerEvent = { event: string } & Record<string, unknown>;

export interface RunModuleOptions {
  onEvent?: (e: TrainerEvent) => void;
  /** Lines on stdout that are not JSON (shown as logs). */
  onText?: (line: string) => void;
  signal?: AbortSignal;
  env?: Record<string, string>;
}

/** Runs `python -m <module> <args>`; resolves with every event, rejects with stderr's tail. */
export function runTrainerModule(module: string, args: string[], opts: RunModuleOptions = {}): Promise<TrainerEvent[]> {
  const python = venvPython();
  if (!existsSync(python)) {
    return Promise.reject(new TrainerProcessError(`Python environment not found at ${python}; run \`npm run setup\` (or set COSEC_PYTHON)`));
  }
  const trainerDir = join(repoRoot, "trainer");
  const env = {
    ...process.env,
    PYTHONPATH: [trainerDir, process.env.PYTHONPATH].filter(Boolean).join(delimiter),
    PYTHONUNBUFFERED: "1",
    ...opts.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(python, ["-m", module, ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"], signal: opts.signal });
    const events: TrainerEvent[] = [];
    let stderr = "";
    let buf = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let ev: TrainerEvent | null = null;
        try {
          const parsed: unknown = JSON.parse(line);
          if (parsed && typeof parsed === "object" && typeof (parsed as { event?: unknown }).event === "string") ev = parsed as TrainerEvent;
        } catch {
          ev = null;
        }
        if (ev) {
          events.push(ev);
          opts.onEvent?.(ev);
        } else opts.onText?.(line);
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000);
    });
    child.on("error", (err) => {
      if (err.name === "AbortError") reject(new TrainerProcessError(`python -m ${module} ${args[0] ?? ""} interrupted; run the command again to resume`));
      else reject(new TrainerProcessError(`could not run ${python} -m ${module}: ${err.message}`, { cause: err }));
    });
    child.on("close", (code, sig) => {
      if (code === 0) resolve(events);
      else {
        const tail = stderr.trim().split("\n").slice(-15).join("\n");
        reject(new TrainerProcessError(`python -m ${module} ${args[0] ?? ""} failed (${sig ?? `exit ${code}`}):\n${tail}`));
      }
    });
  });
}
