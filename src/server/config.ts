// The server's configuration (from `cosec serve` flags): limits, security and the co-decoding
// defaults a request's `cosec` object overrides.
import type { DecodingInput } from "../decoding/settings.ts";
import type { FimOrder } from "../generate/fim.ts";

export interface ServerConfig {
  host: string;
  port: number;
  /** The model id clients name (`model` field, GET /v1/models). */
  modelName: string;
  /** Sequences decoded at once (= each model's maxSequences); a request with n samples takes n. */
  parallel: number;
  /** Requests that may wait for free sequences; more get 429. */
  queue: number;
  /** Upper bound on max_tokens, and the default when a request gives none. */
  maxTokensCap: number;
  defaultMaxTokens: number;
  /** Upper bound on n (never above `parallel`). */
  maxN: number;
  /** Largest accepted request body, bytes. */
  bodyLimit: number;
  /** Accepted bearer tokens; empty = no authentication. */
  apiKeys: string[];
  /** Allowed CORS origins; empty = CORS off. */
  corsOrigins: string[];
  /** How long SIGTERM waits for running requests before aborting them. */
  shutdownTimeoutMs: number;
  /** A Jinja chat template overriding the GGUF's `tokenizer.chat_template`. */
  chatTemplate?: string;
  /** The layout of fill-in-the-middle prompts (`--fim-order`, `--spm-infill`); unset, the target's GGUF decides. */
  fimOrder?: FimOrder;
  /** The decoding flags given (checked at start-up), under each request's own fields. */
  defaults: DecodingInput;
}

export const SERVER_DEFAULTS = {
  host: "127.0.0.1",
  port: 8080,
  parallel: 4,
  queue: 32,
  maxTokensCap: 1024,
  defaultMaxTokens: 256,
  maxN: 4,
  bodyLimit: 1 << 20,
  shutdownTimeoutMs: 30_000,
};
