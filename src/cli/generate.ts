// `cosec generate`: one prompt, n samples, through the engine; text, JSON or JSONL out.
import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "../errors.ts";
import { Engine } from "../generate/engine.ts";
import { RemoteEngine, type RemoteEngineOptions } from "../generate/remote.ts";
import type { GenerationResult } from "../generate/types.ts";
import {
  DECODING_HELP, DECODING_OPTIONS, MODEL_HELP, MODEL_OPTIONS, REMOTE_TARGET_HELP, REMOTE_TARGET_OPTIONS, RUN_HELP, RUN_OPTIONS,
  decodingFrom, engineOptionsFrom, parseOrHelp, positiveInt, remoteEngineOptionsFrom, runOptionsFrom, str, type Values,
} from "./options.ts";

const HELP = `usage: cosec generate --target T.gguf [--expert E.gguf [--expert-lora A.gguf]] [prompt options]
       cosec generate --target-url URL --expert E.gguf [--expert-lora A.gguf] [prompt options]

Generates from one prompt with a target model, co-decoded with a security expert when one is given.

${REMOTE_TARGET_HELP} (one sample)

prompt options:
  --prompt TEXT             the prompt (or --prompt-file FILE, or standard input)
  --prompt-file FILE        read the prompt from a file
  -n, --samples N           samples, decoded as parallel sequences (default 1)
  --stop S                  stop string (repeatable); the text ends before it
  --format text|json|jsonl  output (default text; text streams tokens to a terminal)

${DECODING_HELP}
${RUN_HELP}

${MODEL_HELP}`;

function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch {
    return "";
  }
}

function summaryLine(r: GenerationResult): string {
  const acc = r.acceptanceRate === null ? "" : `, accepted from expert ${(100 * r.acceptanceRate).toFixed(1)}%`;
  return (
    `[sample ${r.sample}: ${r.tokens.length} tokens, ${r.finishReason}${acc}, ` +
    `prompt ${r.timing.promptTokensPerSecond.toFixed(1)} tok/s, generation ${r.timing.tokensPerSecond.toFixed(1)} tok/s]`
  );
}

/** The results as --format asks: one JSON document, JSON lines, or the texts (unless streamed) with a summary line each and `notes` on stderr. */
function print(format: string, streamed: boolean, doc: { prompt: string; results: GenerationResult[]; [more: string]: unknown }, notes: string[]): void {
  if (format === "json") console.log(JSON.stringify(doc, null, 2));
  else if (format === "jsonl") for (const r of doc.results) console.log(JSON.stringify(r));
  else {
    for (const r of doc.results) {
      if (!streamed) {
        if (doc.results.length > 1) process.stdout.write(`--- sample ${r.sample}\n`);
        process.stdout.write(r.text);
      }
      process.stdout.write("\n");
      console.error(summaryLine(r));
    }
    for (const note of notes) console.error(note);
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseOrHelp({
    args: argv,
    options: {
      ...MODEL_OPTIONS,
      ...DECODING_OPTIONS,
      ...RUN_OPTIONS,
      prompt: { type: "string" },
      "prompt-file": { type: "string" },
      samples: { type: "string", short: "n" },
      stop: { type: "string", multiple: true },
      format: { type: "string" },
      ...REMOTE_TARGET_OPTIONS,
    },
    strict: true,
  }, HELP);
  if (!parsed) return 0;
  const { values: v } = parsed;
  const format = str(v, "format") ?? "text";
  if (!["text", "json", "jsonl"].includes(format)) throw new InvalidArgumentError("--format", `expected text, json or jsonl, got '${format}'`);
  const n = positiveInt(v, "samples") ?? 1;
  const promptFile = str(v, "prompt-file");
  let prompt = str(v, "prompt");
  if (prompt === undefined && promptFile) {
    try {
      prompt = readFileSync(promptFile, "utf8");
    } catch (err) {
      throw new InvalidArgumentError("--prompt-file", `cannot read ${promptFile}: ${(err as Error).message}`);
    }
  }
  if (prompt === undefined) prompt = process.stdin.isTTY ? "" : readStdin();
  if (!prompt) throw new InvalidArgumentError("--prompt", "no prompt given (use --prompt, --prompt-file or standard input)");

  const remote = remoteEngineOptionsFrom(v);
  if (remote) return runRemote(v, remote, prompt, n, format);
  const gen = { ...runOptionsFrom(v), decoding: decodingFrom(v) };
  const engine = await Engine.load(engineOptionsFrom(v, { maxSequences: n }));
  try {
    const stream = format === "text" && n === 1 && process.stdout.isTTY;
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once("SIGINT", onSigint);
    const { results, speculative } = await engine.generateWithStats(prompt, {
      ...gen,
      n,
      stop: (v.stop as string[] | undefined) ?? [],
      signal: ac.signal,
      onToken: stream ? (e) => process.stdout.write(e.text) : undefined,
    });
    process.off("SIGINT", onSigint);
    const notes = speculative ? [`[speculative: ${speculative.rounds} rounds, mean accepted run ${speculative.meanAcceptedRun.toFixed(2)}]`] : [];
    print(format, stream, { prompt, results, speculative }, notes);
    return 0;
  } finally {
    await engine.dispose();
  }
}

/** --target-url: the local expert beside a remote target (src/generate/remote.ts). */
async function runRemote(v: Values, options: RemoteEngineOptions, prompt: string, n: number, format: string): Promise<number> {
  if (n !== 1) throw new InvalidArgumentError("--samples", "a remote target decodes one sample at a time");
  const url = options.target.url;
  const run = runOptionsFrom(v);
  const engine = await RemoteEngine.load(options);
  try {
    const stream = format === "text" && process.stdout.isTTY;
    const { result, timing } = await engine.generate(prompt, {
      decoding: decodingFrom(v),
      maxTokens: run.maxTokens,
      seed: run.seed,
      stop: (v.stop as string[] | undefined) ?? [],
      onToken: stream ? (e) => process.stdout.write(e.text) : undefined,
    });
    const perToken = (timing.requests / Math.max(1, result.tokens.length)).toFixed(2);
    print(format, stream, { prompt, results: [result], remote: { url, requests: timing.requests } }, [`[remote target ${url}: ${timing.requests} requests, ${perToken} per token]`]);
    return 0;
  } finally {
    await engine.dispose();
  }
}
