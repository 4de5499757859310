// One long-lived Python process (the repo's venv) that parses and analyses Python code for the
// evaluation: starting Python per sample would cost more than the analysis itself.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { AnalyzerError } from "../errors.ts";
import { repoRoot, venvPython } from "../paths.ts";

const SCRIPT = join(repoRoot, "src", "eval", "analyzers", "python", "worker.py");

export interface PyFinding {
  cwe: string;
  line: number;
  rule: string;
  message: string;
}

type Reply = Record<string, unknown> & { id: number };

export class PythonWorker {
  private proc: ChildProcessWithoutNullStreams;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private stderr = "";
  private closed = false;

  constructor(python = venvPython()) {
    if (!existsSync(python)) throw new AnalyzerError(`python not found at ${python} (run npm run setup, or set COSEC_PYTHON)`);
    this.proc = spawn(python, ["-u", SCRIPT], { stdio: ["pipe", "pipe", "pipe"] });
    this.proc.stderr.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    createInterface({ input: this.proc.stdout }).on("line", (line) => {
      const reply = JSON.parse(line) as Reply;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.setRef(false);
      if (reply.failed) p.reject(new AnalyzerError(`python worker: ${String(reply.error)}`));
      else p.resolve(reply);
    });
    this.proc.on("exit", (code) => {
      this.closed = true;
      const err = new AnalyzerError(`python worker exited (code ${code}): ${this.stderr.trim()}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
    // The worker keeps the event loop alive only while a request is pending.
    this.setRef(false);
  }

  private setRef(on: boolean): void {
    const streams = [this.proc, this.proc.stdout, this.proc.stderr, this.proc.stdin] as unknown as {
      ref?: () => void;
      unref?: () => void;
    }[];
    for (const s of streams) (on ? s.ref : s.unref)?.call(s);
  }

  private request(op: string, code: string): Promise<Reply> {
    if (this.closed) return Promise.reject(new AnalyzerError(`python worker is not running: ${this.stderr.trim()}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.setRef(true);
      this.pending.set(id, { resolve, reject });
      this.proc.stdin.write(JSON.stringify({ id, op, code }) + "\n");
    });
  }

  /** null when the code parses, else the syntax error. */
  async syntaxError(code: string): Promise<string | null> {
    const r = await this.request("parse", code);
    return r.ok ? null : String(r.error);
  }

  /** Every built-in Python analysis (taint pass, pattern rules, API rules); `op: "taint"` runs the taint pass alone. */
  async analyze(code: string, op: "analyze" | "taint" = "analyze"): Promise<{ findings: PyFinding[]; parsed: boolean }> {
    const r = await this.request(op, code);
    return { findings: r.findings as PyFinding[], parsed: Boolean(r.parsed) };
  }

  /** False once the process has exited (the shared worker is then started again on next use). */
  get alive(): boolean {
    return !this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.proc.stdin.end();
    this.proc.kill();
  }
}

let shared: PythonWorker | null = null;

/** The process-wide worker (started on first use). */
export function sharedPythonWorker(): PythonWorker {
  if (!shared?.alive) shared = new PythonWorker();
  return shared;
}

export function closeSharedPythonWorker(): void {
  shared?.close();
  shared = null;
}
