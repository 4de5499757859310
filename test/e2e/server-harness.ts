// Starts `cosec serve` as a real child process on a free loopback port with the fixture models,
// for the server e2e suites (not a test file itself).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { repoRoot } from "../../src/paths.ts";
import { ensureFixtures } from "../helpers/fixtures.ts";

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** SIGTERM (if still running) and wait for the exit. */
  stop(): Promise<number | null>;
}

/** `models`: the model flags instead of the fixture pair (e.g. a --target-url and an expert). */
export async function startServer(extraArgs: string[], env: NodeJS.ProcessEnv = {}, opts: { targetOnly?: boolean; models?: string[] } = {}): Promise<ServerProcess> {
  const f = await ensureFixtures();
  const args = [
    join(repoRoot, "bin", "cosec.mjs"),
    "serve",
    ...(opts.models ?? ["--target", f.targetLlama, ...(opts.targetOnly ? [] : ["--expert", f.expertLlama, "--expert-lora", f.expertLlamaLora])]),
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--gpu",
    "cpu",
    "--log-level",
    "warn",
    ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within 90 s:\n${out}`)), 90_000);
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Reads an SSE response body: the `data:` payloads in order (including "[DONE]"). */
export async function* sseData(res: Response): AsyncGenerator<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const event = buf.slice(0, i);
      buf = buf.slice(i + 2);
      for (const line of event.split("\n")) if (line.startsWith("data: ")) yield line.slice(6);
    }
  }
}
