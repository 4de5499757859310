// JSON schemas of the request bodies (validated by Fastify's Ajv, no type coercion, unknown fields
// refused). Fields OpenAI defines but co-decoding cannot honour are accepted only at their neutral
// value (checked in request-options.ts) so that clients sending defaults keep working. Decoding
// fields come from their declarations (src/decoding/settings.ts) with their JSON type only: their
// ranges are checked by resolveDecodingSettings, with the message every front end gives.
import { DECODING_PARAMS } from "../decoding/settings.ts";

const nullable = (type: string) => ({ type: [type, "null"] });

/** What an `anyOf` field accepts, for error messages (Ajv's own say little). */
export const ANYOF_EXPECTED: Record<string, string> = {
  prompt: "a string, a non-empty array of strings, or a non-empty array of token ids",
  stop: "a string, an array of at most 4 non-empty strings, or null",
  content: "a string, an array of {type: 'text', text} parts, or null",
};

const stop = {
  anyOf: [{ type: "string", minLength: 1 }, { type: "array", maxItems: 4, items: { type: "string", minLength: 1 } }, { type: "null" }],
};

const streamOptions = {
  type: ["object", "null"],
  additionalProperties: false,
  properties: { include_usage: { type: "boolean" } },
};

const JSON_TYPE = { number: "number", int: "number", enum: "string", bool: "boolean" } as const;
const decodingFields = (inCosec: boolean) =>
  Object.fromEntries(
    Object.values(DECODING_PARAMS)
      .filter((p) => p.field.startsWith("cosec.") === inCosec)
      .map((p) => [p.field.replace(/^cosec\./, ""), { type: inCosec ? JSON_TYPE[p.kind] : [JSON_TYPE[p.kind], "null"] }]),
  );

export const cosecExtensionSchema = {
  type: "object",
  additionalProperties: false,
  properties: { ...decodingFields(true), ignore_eos: { type: "boolean" } },
} as const;

/** Sampling and output fields shared by both endpoints. */
const common = {
  model: { type: "string" },
  ...decodingFields(false),
  n: { type: ["integer", "null"], minimum: 1 },
  stop,
  stream: nullable("boolean"),
  stream_options: streamOptions,
  seed: nullable("integer"),
  user: { type: "string" },
  presence_penalty: { type: ["number", "null"], minimum: -2, maximum: 2 },
  frequency_penalty: { type: ["number", "null"], minimum: -2, maximum: 2 },
  logit_bias: { type: ["object", "null"] },
  cosec: cosecExtensionSchema,
};

export const completionRequestSchema = {
  type: "object",
  required: ["prompt"],
  additionalProperties: false,
  properties: {
    ...common,
    prompt: {
      anyOf: [
        { type: "string" },
        { type: "array", minItems: 1, items: { type: "string" } },
        { type: "array", minItems: 1, items: { type: "integer", minimum: 0 } },
      ],
    },
    max_tokens: { type: ["integer", "null"], minimum: 0 },
    logprobs: { type: ["integer", "null"], minimum: 0, maximum: 5 },
    echo: nullable("boolean"),
    best_of: { type: ["integer", "null"], minimum: 1 },
    suffix: nullable("string"),
    // vLLM's extension: each prompt token's log-probability (raw target distribution), with the top N.
    prompt_logprobs: { type: ["integer", "null"], minimum: 0, maximum: 20 },
    // vLLM's: logprobs tokens as "token_id:N" (a client that works in token ids needs no detokenizing).
    return_tokens_as_token_ids: nullable("boolean"),
  },
} as const;

const textPart = {
  type: "object",
  required: ["type", "text"],
  additionalProperties: false,
  properties: { type: { type: "string", const: "text" }, text: { type: "string" } },
};

export const chatRequestSchema = {
  type: "object",
  required: ["messages"],
  additionalProperties: false,
  properties: {
    ...common,
    messages: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["role", "content"],
        additionalProperties: false,
        properties: {
          role: { type: "string", enum: ["system", "developer", "user", "assistant"] },
          content: { anyOf: [{ type: "string" }, { type: "array", items: textPart }, { type: "null" }] },
          name: { type: "string" },
        },
      },
    },
    max_tokens: { type: ["integer", "null"], minimum: 0 },
    max_completion_tokens: { type: ["integer", "null"], minimum: 0 },
    logprobs: nullable("boolean"),
    top_logprobs: { type: ["integer", "null"], minimum: 0, maximum: 20 },
    response_format: {
      type: ["object", "null"],
      required: ["type"],
      properties: { type: { type: "string", const: "text" } },
    },
  },
} as const;

// Request body types (what the schemas admit).
export type StopField = string | string[] | null | undefined;

/** The `cosec` object: besides ignore_eos, decoding fields as declared (src/decoding/settings.ts). */
export interface CosecExtension {
  /** Generate to max_tokens past end-of-text tokens (as vLLM's ignore_eos; for benchmarks). */
  ignore_eos?: boolean;
  [field: string]: unknown;
}

export interface CommonRequest {
  model?: string;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  stop?: StopField;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  seed?: number | null;
  user?: string;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  logit_bias?: Record<string, unknown> | null;
  cosec?: CosecExtension;
}

export interface CompletionRequest extends CommonRequest {
  prompt: string | string[] | number[];
  max_tokens?: number | null;
  logprobs?: number | null;
  echo?: boolean | null;
  best_of?: number | null;
  suffix?: string | null;
  prompt_logprobs?: number | null;
  return_tokens_as_token_ids?: boolean | null;
}

export interface ChatMessage {
  role: "system" | "developer" | "user" | "assistant";
  content: string | { type: "text"; text: string }[] | null;
  name?: string;
}

export interface ChatRequest extends CommonRequest {
  messages: ChatMessage[];
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  response_format?: { type: "text" } | null;
}

/** The sampling and control fields llama-server's /completion and /infill share. */
const llamaCppFields = {
  model: { type: "string" },
  n_predict: { type: "integer", minimum: -1 },
  stream: { type: "boolean" },
  cache_prompt: { type: "boolean" },
  temperature: { type: "number" },
  top_k: { type: "integer" },
  top_p: { type: "number" },
  min_p: { type: "number" },
  seed: { type: "integer", minimum: -1 },
  stop: { type: "array", items: { type: "string" } },
  cosec: cosecExtensionSchema,
} as const;

/**
 * llama.cpp's /infill body (what llama.vscode sends). Unknown fields are accepted and ignored, as
 * llama-server does: editors send their own (n_indent, t_max_prompt_ms, samplers, ...). The known
 * ones are type-checked.
 */
export const infillRequestSchema = {
  type: "object",
  additionalProperties: true,
  properties: {
    ...llamaCppFields,
    input_prefix: { type: "string" },
    input_suffix: { type: "string" },
    input_extra: {
      type: "array",
      items: { type: "object", required: ["text"], properties: { filename: { type: "string" }, text: { type: "string" } } },
    },
    prompt: { type: "string" },
  },
} as const;

/**
 * llama.cpp's /completion body (what Continue's llama.cpp provider sends, its FIM template already
 * applied to `prompt` as text): text or token ids; unknown fields ignored, as above.
 */
export const llamaCompletionRequestSchema = {
  type: "object",
  additionalProperties: true,
  required: ["prompt"],
  properties: {
    ...llamaCppFields,
    prompt: { anyOf: [{ type: "string" }, { type: "array", items: { type: "integer", minimum: 0 } }] },
  },
} as const;

/** The fields of `llamaCppFields`. */
export interface LlamaCppRequest {
  model?: string;
  n_predict?: number;
  stream?: boolean;
  cache_prompt?: boolean;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  min_p?: number;
  seed?: number;
  stop?: string[];
  cosec?: CosecExtension;
}

export interface LlamaCompletionRequest extends LlamaCppRequest {
  prompt: string | number[];
}

export interface InfillRequest extends LlamaCppRequest {
  input_prefix?: string;
  input_suffix?: string;
  input_extra?: { filename?: string; text: string }[];
  prompt?: string;
}
