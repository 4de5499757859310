// Runs one untrusted Python program (prompt + completion + tests) and classifies the outcome.
// Isolation: bubblewrap (no network, no view of the project or home, read-only system, a private
// size-capped tmpfs as the only writable place, own PID namespace, dies with us) plus rlimits
// set by util-linux `prlimit` inside the sandbox, plus a wall-clock timeout enforced here.
//
// As root, bwrap keeps full capabilities inside the sandbox and RLIMIT_NPROC is not enforced for
// uid 0, so a fork bomb would be unbounded: we first drop to an unprivileged uid with `setpriv`
// and let bwrap create a user namespace, which makes the process limit count per sandbox.
import { spawn } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readlinkSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CosecError } from "../../errors.ts";

export type SampleStatus = "passed" | "failed" | "error" | "timeout" | "killed";

export interface SandboxLimits {
  /** Wall-clock seconds before the program is killed (status `timeout`). */
  timeoutSeconds: number;
  /** CPU seconds (RLIMIT_CPU; the kernel kills the program, status `killed`). */
  cpuSeconds: number;
  /** Address space in bytes (RLIMIT_AS; allocations beyond fail with MemoryError, status `killed`). */
  memoryBytes: number;
  /** Processes/threads inside the sandbox (RLIMIT_NPROC, counted per sandbox). */
  maxProcesses: number;
  /** Largest file the program may write (RLIMIT_FSIZE), also the private tmpfs size. */
  maxFileBytes: number;
  /** Open file descriptors (RLIMIT_NOFILE). */
  maxOpenFiles: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  timeoutSeconds: 10,
  cpuSeconds: 10,
  memoryBytes: 1024 ** 3,
  maxProcesses: 16,
  maxFileBytes: 16 * 1024 ** 2,
  maxOpenFiles: 64,
};

export interface ExecutionResult {
  status: SampleStatus;
  /** Why, in a few words (the exception line, the signal, the limit hit). */
  details: string;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  stdoutTail: string;
  stderrTail: string;
}

export type SandboxMode = "bwrap" | "unsafe";

export interface SandboxOptions {
  mode: SandboxMode;
  limits?: Partial<SandboxLimits>;
  /** Python interpreter (default /usr/bin/python3); its install prefix is bound read-only. */
  python?: string;
}

/** No sandbox can be set up here (bwrap missing, or namespaces not permitted). */
export class SandboxUnavailableError extends CosecError {}

const OUTPUT_TAIL = 4096;
const UNPRIVILEGED_ID = "65534";

function which(bin: string): string | null {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    const p = join(dir, bin);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Top-level system paths mirrored into the sandbox: symlinks stay symlinks, folders are bound read-only. */
function systemMounts(): string[] {
  const args = ["--ro-bind", "/usr", "/usr"];
  for (const top of ["/bin", "/lib", "/lib64", "/sbin", "/lib32", "/libx32"]) {
    if (!existsSync(top)) continue;
    const st = lstatSync(top);
    if (st.isSymbolicLink()) args.push("--symlink", readlinkSync(top), top);
    else if (st.isDirectory()) args.push("--ro-bind", top, top);
  }
  // The only /etc pieces Python uses for plain computation: the loader cache and the time zone.
  for (const f of ["/etc/ld.so.cache", "/etc/localtime"]) if (existsSync(f)) args.push("--ro-bind", f, f);
  return args;
}

/** Read-only binds for an interpreter outside /usr (e.g. a pyenv build): its install prefix. */
function pythonMounts(python: string): string[] {
  const real = realpathSync(python);
  if (real.startsWith("/usr/")) return [];
  const prefix = dirname(dirname(real));
  return ["--ro-bind", prefix, prefix];
}

function prlimitArgs(l: SandboxLimits): string[] {
  return [
    // Soft limit sends SIGXCPU (reported as the CPU limit); the hard one a second later is SIGKILL.
    `--cpu=${Math.max(1, Math.ceil(l.cpuSeconds))}:${Math.max(1, Math.ceil(l.cpuSeconds)) + 1}`,
    `--as=${l.memoryBytes}`,
    `--nproc=${l.maxProcesses}`,
    `--fsize=${l.maxFileBytes}`,
    `--nofile=${l.maxOpenFiles}`,
    "--core=0",
  ];
}

/** The full command line that runs `python -` (program on stdin) under the chosen isolation. */
export function sandboxCommand(opts: SandboxOptions): { command: string; args: string[] } {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const python = opts.python ?? "/usr/bin/python3";
  const prlimit = which("prlimit");
  if (!prlimit) throw new SandboxUnavailableError("`prlimit` (util-linux) not found; it sets the resource limits");
  const inner = [prlimit, ...prlimitArgs(limits), "--", python, "-"];
  // Outside a user namespace RLIMIT_NPROC counts all of this user's processes (and none for root),
  // so it would either break Python or do nothing: unsafe mode goes without it.
  if (opts.mode === "unsafe") return { command: prlimit, args: inner.slice(1).filter((a) => !a.startsWith("--nproc=")) };

  const bwrap = which("bwrap");
  if (!bwrap) throw new SandboxUnavailableError("`bwrap` not found: install bubblewrap (Debian: apt-get install bubblewrap)");
  const bwrapArgs = [
    ...systemMounts(),
    ...pythonMounts(python),
    "--proc", "/proc",
    "--dev", "/dev",
    "--size", String(limits.maxFileBytes), "--tmpfs", "/tmp",
    "--unshare-all", // network, pid, ipc, uts, cgroup (+ user where possible)
    "--unshare-user", "--uid", UNPRIVILEGED_ID, "--gid", UNPRIVILEGED_ID,
    "--die-with-parent",
    "--new-session",
    // Reports the PID of the namespace's init, so a timeout can kill the whole namespace at once.
    "--info-fd", "3",
    "--clearenv",
    "--setenv", "PATH", "/usr/bin:/bin",
    "--setenv", "HOME", "/tmp",
    "--setenv", "LANG", "C.UTF-8",
    "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
    "--chdir", "/tmp",
    "--",
    ...inner,
  ];
  if (!isRoot()) return { command: bwrap, args: bwrapArgs };
  const setpriv = which("setpriv");
  if (!setpriv) throw new SandboxUnavailableError("running as root needs `setpriv` (util-linux) to drop to an unprivileged uid");
  return {
    command: setpriv,
    args: ["--reuid", UNPRIVILEGED_ID, "--regid", UNPRIVILEGED_ID, "--clear-groups", "--no-new-privs", "--", bwrap, ...bwrapArgs],
  };
}

function tail(s: string): string {
  return s.length > OUTPUT_TAIL ? s.slice(-OUTPUT_TAIL) : s;
}

/** The last exception line of a Python traceback, e.g. `AssertionError: x` (or ""). */
export function lastExceptionLine(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b/.test(lines[i])) return lines[i];
  }
  return lines.length ? lines[lines.length - 1] : "";
}

const SIGNAL_NAMES: Record<number, string> = { 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 24: "SIGXCPU", 25: "SIGXFSZ" };

/** Map how the process ended to a status. Exported for unit tests of the rules. */
export function classify(r: { exitCode: number | null; signal: string | null; timedOut: boolean; stderr: string; mode: SandboxMode }): {
  status: SampleStatus;
  details: string;
} {
  if (r.timedOut) return { status: "timeout", details: "wall-clock timeout" };
  let signal = r.signal;
  // bwrap reports a sandboxed process killed by a signal as exit status 128 + signal.
  if (!signal && r.mode === "bwrap" && r.exitCode !== null && r.exitCode > 128 && r.exitCode < 160) {
    signal = SIGNAL_NAMES[r.exitCode - 128] ?? `signal ${r.exitCode - 128}`;
  }
  if (signal) {
    const why = signal === "SIGXCPU" ? " (CPU limit)" : signal === "SIGKILL" ? " (CPU hard limit or out of memory)" : signal === "SIGXFSZ" ? " (file size limit)" : "";
    return { status: "killed", details: `${signal}${why}` };
  }
  if (r.exitCode === 0) return { status: "passed", details: "" };
  const exc = lastExceptionLine(r.stderr);
  if (r.stderr.startsWith("bwrap:")) return { status: "error", details: `sandbox: ${exc}` };
  if (/^AssertionError\b/.test(exc)) return { status: "failed", details: exc };
  if (/^MemoryError\b/.test(exc)) return { status: "killed", details: "MemoryError (memory limit)" };
  if (/Resource temporarily unavailable/.test(exc)) return { status: "killed", details: `${exc} (process limit)` };
  if (/File too large/.test(exc)) return { status: "killed", details: `${exc} (file size limit)` };
  return { status: "error", details: exc || `exit status ${r.exitCode}` };
}

/** Run one program; never throws for anything the program does. */
export function runProgram(program: string, opts: SandboxOptions): Promise<ExecutionResult> {
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  // Unsafe mode still gets a throw-away working folder rather than our current directory.
  const workDir = opts.mode === "unsafe" ? mkdtempSync(join(tmpdir(), "cosec-he-")) : "";
  const { command, args } = sandboxCommand(opts);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: workDir || "/",
      stdio: ["pipe", "pipe", "pipe", "pipe"],
      env: opts.mode === "unsafe" ? { PATH: "/usr/bin:/bin", HOME: workDir, LANG: "C.UTF-8", PYTHONDONTWRITEBYTECODE: "1" } : {},
      // Own process group, so the timeout can kill whatever the program forked (unsafe mode).
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => (stdout = tail(stdout + d.toString("utf8"))));
    child.stderr.on("data", (d: Buffer) => (stderr = tail(stderr + d.toString("utf8"))));
    // The program may exit before reading all of stdin; that is its business.
    child.stdin.on("error", () => {});
    child.stdin.end(program);
    let info = "";
    let namespaceInit: number | null = null;
    const infoPipe = child.stdio[3] as NodeJS.ReadableStream | null;
    infoPipe?.on("data", (d: Buffer) => {
      info += d.toString("utf8");
      const m = /"child-pid"\s*:\s*(\d+)/.exec(info);
      if (m) namespaceInit = Number(m[1]);
    });
    infoPipe?.on("error", () => {});
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      // Killing the PID namespace's init ends every process in it, and bwrap then reaps it and
      // exits by itself; killing bwrap first would orphan that init as a zombie.
      if (namespaceInit !== null) {
        try {
          process.kill(namespaceInit, "SIGKILL");
          return;
        } catch {
          // already gone: fall through
        }
      }
      killGroup();
    }, limits.timeoutSeconds * 1000);
    const finish = (exitCode: number | null, signal: string | null) => {
      clearTimeout(timer);
      killGroup(); // leftovers of the program's process group (unsafe mode); bwrap's die with it
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      const c = classify({ exitCode, signal, timedOut, stderr, mode: opts.mode });
      resolve({ ...c, exitCode, signal, durationMs: Date.now() - started, stdoutTail: stdout, stderrTail: stderr });
    };
    child.on("error", (err) => {
      clearTimeout(timer);
      if (workDir) rmSync(workDir, { recursive: true, force: true });
      resolve({ status: "error", details: `could not start ${command}: ${err.message}`, exitCode: null, signal: null, durationMs: 0, stdoutTail: "", stderrTail: "" });
    });
    child.on("close", finish);
  });
}

/**
 * Check once that the sandbox really works here by running a trivial program in it; throws
 * SandboxUnavailableError with what failed and how to fix it.
 */
export async function probeSandbox(opts: Omit<SandboxOptions, "mode"> = {}): Promise<void> {
  let why: string;
  try {
    const r = await runProgram("import sys\nprint('sandbox-ok', sys.version_info[0])\n", { ...opts, mode: "bwrap" });
    if (r.status === "passed" && r.stdoutTail.includes("sandbox-ok 3")) return;
    why = r.stderrTail.trim() || r.details;
  } catch (err) {
    if (!(err instanceof SandboxUnavailableError)) throw err;
    why = err.message;
  }
  throw new SandboxUnavailableError(
    `cannot run programs in a bubblewrap sandbox here: ${why}. ` +
      "Install bubblewrap (Debian: apt-get install bubblewrap) and allow user namespaces " +
      "(sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces > 0), " +
      "or pass --unsafe-no-sandbox to run generated code without isolation (only for code you trust).",
  );
}
