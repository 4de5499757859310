// What the compiler-based C analyzers (Clang Static Analyzer, gcc -fanalyzer) share: the program
// written to a temporary folder, the tool run on it with the program's include folders, a bound on
// how many run at once (an evaluation asks for many programs together; each tool process takes
// tens of MB), a timeout, and a named error when the tool is not installed.
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { AnalyzerError } from "../../errors.ts";

export interface ToolRun {
  /** The tool's exit status (null when killed by the timeout). */
  status: number | null;
  stdout: string;
  stderr: string;
  /** Text of the output file the tool wrote (`{out}` in its arguments), or "" when none. */
  output: string;
  /** The path the program was analysed under (diagnostics name it). */
  file: string;
}

/** A bound on concurrent tool processes, shared by the analyzers of one kind. */
export class ProcessLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly max: number = Math.max(1, availableParallelism())) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

const available = new Map<string, boolean>();

export function toolAvailable(bin: string, versionArgs: string[] = ["--version"]): boolean {
  let ok = available.get(bin);
  if (ok === undefined) {
    ok = spawnSync(bin, versionArgs, { stdio: "pipe", timeout: 20_000 }).status === 0;
    available.set(bin, ok);
  }
  return ok;
}

/**
 * Run `bin` on `code` saved as sample.c; `{file}` and `{out}` in `args` become the program's path
 * and an output file's path. `pkg` names the Debian package that installs the tool.
 */
export function runOnProgram(bin: string, pkg: string, args: string[], code: string, timeoutMs: number): Promise<ToolRun> {
  if (!toolAvailable(bin)) {
    return Promise.reject(new AnalyzerError(`${bin} is not installed (Debian package ${pkg}; npm run setup installs it); --analyzer builtin works without it`));
  }
  const dir = mkdtempSync(join(tmpdir(), "cosec-cc-analyze-"));
  const file = join(dir, "sample.c");
  const out = join(dir, "out");
  writeFileSync(file, code);
  const argv = args.map((a) => a.replace("{file}", file).replace("{out}", out));
  return new Promise((resolve) => {
    execFile(bin, argv, { cwd: dir, timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      let output = "";
      try {
        output = readFileSync(out, "utf8");
      } catch {
        /* the tool wrote no output file (it did not get that far) */
      }
      rmSync(dir, { recursive: true, force: true });
      const status = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : null) : 0;
      resolve({ status, stdout, stderr, output, file });
    });
  });
}

export function includeFlags(dirs: readonly string[] | undefined): string[] {
  return (dirs ?? []).flatMap((d) => ["-I", d]);
}
