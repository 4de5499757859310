// Every failure becomes OpenAI's error shape `{error: {message, type, param, code}}` with a 4xx
// for the client's mistakes (naming the field) and 5xx only for the server's own.
import { ApiRequestError, ContextOverflowError, InvalidArgumentError, StrategyError } from "../errors.ts";
import { ANYOF_EXPECTED } from "./schemas.ts";

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface HttpFailure {
  status: number;
  body: OpenAiErrorBody;
  headers?: Record<string, string>;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** "/messages/0/role" → "messages[0].role" */
export function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split("/").filter(Boolean);
  if (child !== undefined) parts.push(child);
  let out = "";
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

/** Turns Ajv's errors (the last one is the decisive one: Ajv stops at the first failure) into a 400. */
export function validationError(errors: readonly AjvError[]): ApiRequestError {
  const e = errors[errors.length - 1];
  if (!e) return new ApiRequestError(400, "invalid request body");
  let param = fieldPath(e.instancePath);
  let reason: string;
  switch (e.keyword) {
    case "required":
      param = fieldPath(e.instancePath, String(e.params.missingProperty));
      reason = "is required";
      break;
    case "additionalProperties":
      param = fieldPath(e.instancePath, String(e.params.additionalProperty));
      reason = "is not a recognized field";
      break;
    case "type":
      reason = `must be ${String(e.params.type).split(",").join(" or ")}`;
      break;
    case "enum":
      reason = `must be one of: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
      break;
    case "const":
      reason = `must be ${JSON.stringify(e.params.allowedValue)}`;
      break;
    case "anyOf": {
      const last = param.replace(/\[\d+\]$/, "").split(".").pop() ?? param;
      reason = `must be ${ANYOF_EXPECTED[last] ?? "of another shape"}`;
      break;
    }
    default:
      reason = e.message ?? "is invalid";
  }
  const where = param || "body";
  return new ApiRequestError(400, `${where}: ${reason}`, param || null, "invalid_value");
}

/** Maps any error thrown while serving a request to a status and OpenAI error body. */
export function toHttpFailure(err: unknown): HttpFailure {
  const shape = (status: number, message: string, type: string, param: string | null, code: string | null): HttpFailure => ({
    status,
    body: { error: { message, type, param, code } },
  });
  if (err instanceof ApiRequestError) {
    const f = shape(err.status, err.message, err.type, err.param, err.code);
    const retry = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
    if (retry !== undefined) f.headers = { "retry-after": String(retry) };
    return f;
  }
  if (err instanceof InvalidArgumentError) return shape(400, err.message, "invalid_request_error", err.field, "invalid_value");
  if (err instanceof ContextOverflowError) return shape(400, err.message, "invalid_request_error", null, "context_length_exceeded");
  if (err instanceof StrategyError) return shape(400, err.message, "invalid_request_error", "cosec.strategy", "invalid_value");
  const e = err as { validation?: AjvError[]; statusCode?: number; code?: string; message?: string };
  if (Array.isArray(e.validation)) {
    const v = validationError(e.validation);
    return shape(400, v.message, v.type, v.param, v.code);
  }
  // Fastify's own client errors: bad JSON, body too large, wrong content type.
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    const code = e.code === "FST_ERR_CTP_BODY_TOO_LARGE" ? "body_too_large" : (e.code ?? null);
    return shape(e.statusCode, e.message ?? "bad request", "invalid_request_error", null, code);
  }
  return shape(500, "internal server error", "server_error", null, null);
}
