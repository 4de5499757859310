// What the server benchmarks share: `cosec serve` started as a child process on loopback, its RSS,
// quantiles, and one streaming completion request read chunk by chunk.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../src/paths.ts";
import { ensureFixtures } from "../../test/helpers/fixtures.ts";

export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export interface ServerModels {
  target?: string;
  expert?: string;
  expertLora?: string;
}

/** The models' flags: the given files, else the tiny test-fixture pair. */
export async function modelFlags(m: ServerModels): Promise<string[]> {
  if (m.target) {
    const out = ["--target", m.target];
    if (m.expert) out.push("--expert", m.expert);
    if (m.expertLora) out.push("--expert-lora", m.expertLora);
    return out;
  }
  const f = await ensureFixtures();
  return ["--target", f.targetLlama, "--expert", f.expertLlama, "--expert-lora", f.expertLlamaLora];
}

export interface StartedServer {
  url: string;
  pid: number;
  stop: () => Promise<number | null>;
}

/** `cosec serve` as a child process on a free loopback port, with `flags` after the models'. */
export async function startServer(models: ServerModels, flags: string[]): Promise<StartedServer> {
  const args = [join(repoRoot, "bin", "cosec.mjs"), "serve", ...(await modelFlags(models)), "--host", "127.0.0.1", "--port", "0", "--log-level", "warn", ...flags];
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout.on("data", check);
    void exited.then((code) => reject(new Error(`server exited (${code}):\n${out}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

export interface Outcome {
  kind: string;
  ttftMs?: number;
  gapsMs: number[];
  tokens: number;
}

export const PROMPTS = ["def read_file(path):", "import sqlite3\n\ndef find_user(db, name):", "#include <stdio.h>\nint main(void) {", "app = Flask(__name__)\n"];

/**
 * One streaming completion request; `headers` are added (an API key), `abortAfterFirst` drops the
 * connection after the first read that holds a token (`tokens` is then the tokens received).
 */
export async function oneRequest(
  url: string,
  i: number,
  maxTokens: number,
  opts: { headers?: Record<string, string>; abortAfterFirst?: AbortController; onRejected?: (res: Response) => void } = {},
): Promise<Outcome> {
  const t0 = performance.now();
  let res: Response;
  try {
    res = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...opts.headers },
      signal: opts.abortAfterFirst?.signal,
      body: JSON.stringify({
        prompt: PROMPTS[i % PROMPTS.length],
        max_tokens: maxTokens,
        seed: i,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
  } catch (err) {
    return { kind: `network: ${(err as Error).message}`, gapsMs: [], tokens: 0 };
  }
  if (res.status !== 200) {
    opts.onRejected?.(res);
    await res.arrayBuffer();
    return { kind: `http ${res.status}`, gapsMs: [], tokens: 0 };
  }
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let ttft: number | undefined;
  let last = 0;
  const gaps: number[] = [];
  let tokens = 0;
  let received = 0;
  let done = false;
  let streamError: string | null = null;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      buf += decoder.decode(r.value, { stream: true });
      let k: number;
      while ((k = buf.indexOf("\n\n")) >= 0) {
        const line = buf.slice(0, k);
        buf = buf.slice(k + 2);
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") {
          done = true;
          continue;
        }
        const chunk = JSON.parse(data) as { error?: { code: string }; choices: { text: string }[]; usage?: { completion_tokens: number } };
        if (chunk.error) streamError = chunk.error.code;
        if (chunk.usage) tokens = chunk.usage.completion_tokens;
        if (chunk.choices.some((c) => c.text.length > 0)) {
          const now = performance.now();
          if (ttft === undefined) {
            ttft = now - t0;
          } else gaps.push(now - last);
          last = now;
          received++;
        }
      }
      if (opts.abortAfterFirst && received > 0) {
        // the chunks of this read were received too: the server may send several tokens at once
        opts.abortAfterFirst.abort();
        return { kind: "aborted", ttftMs: ttft, gapsMs: [], tokens: received };
      }
    }
  } catch (err) {
    return { kind: `stream broken: ${(err as Error).message}`, gapsMs: gaps, tokens };
  }
  if (streamError) return { kind: `stream error ${streamError}`, gapsMs: gaps, tokens };
  if (!done) return { kind: "no [DONE]", gapsMs: gaps, tokens };
  return { kind: "ok", ttftMs: ttft, gapsMs: gaps, tokens };
}

