// The checks both engines (local pair and remote target) run on a generation request before they
// decode: one function, so a bad value gets the same error from either.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Tokenizer } from "../../src/backend/types.ts";
import { ContextOverflowError, InvalidArgumentError } from "../../src/errors.ts";
import { checkRequest, DEFAULT_MAX_TOKENS, promptTokens } from "../../src/generate/request.ts";

test("defaults: one sample, the engine's token limit, seed 0, cosec-plus with an expert", () => {
  const r = checkRequest({}, true);
  assert.equal(r.n, 1);
  assert.equal(r.maxTokens, DEFAULT_MAX_TOKENS);
  assert.equal(r.seed, 0);
  assert.equal(r.decoding.strategy.name, "cosec-plus");
  assert.equal(checkRequest({}, false).decoding.strategy.name, "target");
});

test("bad counts, limits and seeds are named errors", () => {
  for (const [options, field] of [
    [{ n: 0 }, "n"], [{ n: 1.5 }, "n"], [{ maxTokens: -1 }, "maxTokens"], [{ maxTokens: 2.5 }, "maxTokens"],
    [{ seed: -3 }, "seed"], [{ seed: 2 ** 60 }, "seed"],
  ] as const) {
    assert.throws(() => checkRequest(options, true), (e: unknown) => e instanceof InvalidArgumentError && e.message.includes(field), JSON.stringify(options));
  }
});

test("prompts: tokenized with the caller's BOS choice, refused when empty or not shorter than the context", () => {
  const seen: (boolean | undefined)[] = [];
  const tokenizer = { tokenize: (text: string, o?: { addBos?: boolean }) => (seen.push(o?.addBos), [...text].map((c) => c.charCodeAt(0))) } as unknown as Tokenizer;
  assert.deepEqual(promptTokens("ab", tokenizer, false, 8), [97, 98]);
  assert.deepEqual(seen, [false]);
  assert.deepEqual(promptTokens([5, 6], tokenizer, undefined, 3), [5, 6]);
  assert.throws(() => promptTokens("", tokenizer, undefined, 8), InvalidArgumentError);
  assert.throws(() => promptTokens([1, 2, 3], tokenizer, undefined, 3), (e: unknown) => e instanceof ContextOverflowError && /3 tokens but the context holds 3/.test((e as Error).message));
});
