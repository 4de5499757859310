// A target model served by an OpenAI-compatible engine elsewhere (vLLM with tensor parallelism for a
// model that needs GPUs; or `cosec serve`), used by co-decoding in token ids. What it must offer:
// `prompt_logprobs` on /v1/completions (the log-probability of every prompt token: vLLM returns it,
// raw with `--logprobs-mode raw_logprobs`; cosec serve returns it raw) and `return_tokens_as_token_ids`.
// llama.cpp's server returns no prompt log-probabilities, so it cannot be a remote target.
// Everything is checked at connect time, so a wrong URL fails at start-up, not mid-stream.
import type { Vocabulary } from "./types.ts";
import { CosecError } from "../errors.ts";

/** The remote target is unreachable, lacks what co-decoding needs, or answered something unexpected. */
export class RemoteTargetError extends CosecError {}

export interface RemoteTargetOptions {
  url: string;
  apiKey?: string;
  /** The served model's id (default: the first of GET /v1/models). */
  model?: string;
  timeoutMs?: number;
}

interface CompletionBody {
  choices?: {
    prompt_logprobs?: (Record<string, { logprob: number }> | null)[];
    logprobs?: { tokens?: string[]; token_logprobs?: number[] } | null;
    finish_reason?: string | null;
  }[];
}

const decoder = new TextDecoder("utf-8");

export class RemoteTarget {
  /** HTTP requests sent, for requests-per-token figures. */
  requests = 0;

  private constructor(
    readonly url: string,
    readonly model: string,
    private readonly headers: Record<string, string>,
    private readonly timeoutMs: number,
    /** The token that stands for "the server ended the text" (an end token it does not return). */
    private readonly endToken: number | null,
  ) {}

  /** Connects and checks: reachable, prompt log-probabilities returned, the same vocabulary as `vocab` (the expert's). */
  static async connect(opts: RemoteTargetOptions, vocab: Vocabulary): Promise<RemoteTarget> {
    const url = opts.url.replace(/\/+$/, "").replace(/\/v1$/, "");
    const headers: Record<string, string> = { "content-type": "application/json", ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) };
    const timeoutMs = opts.timeoutMs ?? 60_000;
    let model = opts.model;
    if (model === undefined) {
      const list = (await request(`${url}/v1/models`, { headers }, timeoutMs, url)) as { data?: { id: string }[] };
      model = list.data?.[0]?.id;
      if (!model) throw new RemoteTargetError(`remote target ${url}: GET /v1/models lists no model`);
    }
    const target = new RemoteTarget(url, model, headers, timeoutMs, vocab.special.eot ?? vocab.special.eos);
    // A probe over a few ids: each must come back with its log-probability and the same text.
    const probe = [0, 1, 2, Math.min(100, vocab.size - 1), vocab.size - 1].filter((t, i, a) => a.indexOf(t) === i && !vocab.isEndOfGeneration(t));
    const body = await target.complete({ prompt: probe, max_tokens: 1, temperature: 1, prompt_logprobs: 0 });
    const scored = body.choices?.[0]?.prompt_logprobs;
    if (!Array.isArray(scored) || scored.length !== probe.length || scored.slice(1).some((e) => !e)) {
      throw new RemoteTargetError(
        `remote target ${url} returned no prompt log-probabilities (prompt_logprobs); co-decoding needs them to verify drafts. vLLM: \`vllm serve MODEL --logprobs-mode raw_logprobs\`; llama.cpp's server cannot return them`,
      );
    }
    probe.slice(1).forEach((id, i) => {
      const entry = scored[i + 1]!;
      const mine = decoder.decode(vocab.tokenBytes(id));
      const theirs = (entry[String(id)] as { decoded_token?: string } | undefined)?.decoded_token;
      if (!(String(id) in entry)) throw new RemoteTargetError(`remote target ${url}: prompt_logprobs lack the prompt's token ${id}`);
      if (theirs !== undefined && theirs !== mine) {
        throw new RemoteTargetError(`remote target ${url} has another vocabulary: token ${id} is ${JSON.stringify(theirs)} there, ${JSON.stringify(mine)} in the expert`);
      }
    });
    target.requests = 0;
    return target;
  }

  /** log p_target of tokens[from..] given the tokens before each (raw distribution), in one request. */
  async score(tokens: readonly number[], from: number): Promise<number[]> {
    const body = await this.complete({ prompt: tokens, max_tokens: 1, temperature: 1, prompt_logprobs: 0 });
    const scored = body.choices?.[0]?.prompt_logprobs;
    if (!Array.isArray(scored) || scored.length !== tokens.length) throw new RemoteTargetError(`remote target ${this.url}: prompt_logprobs missing or of the wrong length`);
    const out: number[] = [];
    for (let i = Math.max(1, from); i < tokens.length; i++) {
      const lp = scored[i]?.[String(tokens[i])]?.logprob;
      if (typeof lp !== "number") throw new RemoteTargetError(`remote target ${this.url}: no log-probability for prompt token ${i}`);
      out.push(lp);
    }
    return out;
  }

  /** One token drawn by the server from its raw distribution (temperature 1, top-p 1) after `tokens`. */
  async sample(tokens: readonly number[], seed: number): Promise<{ token: number; logprob: number }> {
    const body = await this.complete({ prompt: tokens, max_tokens: 1, temperature: 1, top_p: 1, seed, logprobs: 0, return_tokens_as_token_ids: true });
    const choice = body.choices?.[0];
    const lp = choice?.logprobs;
    const m = /^token_id:(\d+)$/.exec(lp?.tokens?.[0] ?? "");
    // The draw was an end token, which the server ends on without returning it.
    if (!m && !lp?.tokens?.length && choice?.finish_reason === "stop" && this.endToken !== null) return { token: this.endToken, logprob: 0 };
    if (!m) throw new RemoteTargetError(`remote target ${this.url}: the sampled token came back without its id (needs return_tokens_as_token_ids)`);
    return { token: Number(m[1]), logprob: lp?.token_logprobs?.[0] ?? 0 };
  }

  private async complete(fields: Record<string, unknown>): Promise<CompletionBody> {
    this.requests++;
    return (await request(`${this.url}/v1/completions`, { method: "POST", headers: this.headers, body: JSON.stringify({ model: this.model, ...fields }) }, this.timeoutMs, this.url)) as CompletionBody;
  }
}

async function request(url: string, init: RequestInit, timeoutMs: number, base: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new RemoteTargetError(`remote target ${base} is unreachable (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message})`);
  }
  const text = await res.text();
  if (!res.ok) throw new RemoteTargetError(`remote target ${base}: ${init.method ?? "GET"} ${new URL(url).pathname} answered ${res.status}: ${text.slice(0, 300)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new RemoteTargetError(`remote target ${base}: ${new URL(url).pathname} answered ${res.status} with a body that is not JSON`);
  }
}
