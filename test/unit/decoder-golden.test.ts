// The whole generation path (settings → strategy → both decoders → samples) on a fake pair that
// needs no GGUF: outputs equal those recorded before decoding settings had one home
// (test/fixtures/decoding-golden.json), for every strategy and schedule: every token, source and
// statistic exactly, every logprob to 1e-6 (the addon's kernels sum the vocabulary in SIMD blocks
// whose width, SSE2, AVX2 or NEON, moves the last bits; speculative against sequential stays exact).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { DecodingInput } from "../../src/decoding/settings.ts";
import { Engine } from "../../src/generate/engine.ts";
import { repoRoot } from "../../src/paths.ts";
import { DECODING_CASES, RUN, SCHEDULES } from "../helpers/decoding-cases.ts";
import { fakePair } from "../helpers/fake-backend.ts";

const golden = JSON.parse(readFileSync(join(repoRoot, "test", "fixtures", "decoding-golden.json"), "utf8")) as Record<string, unknown>;

async function generate(decoding: DecodingInput, seed: number) {
  const engine = Engine.fromBackends(fakePair());
  try {
    return await engine.generateWithStats(RUN.prompt, { decoding, n: RUN.n, maxTokens: RUN.maxTokens, seed });
  } finally {
    await engine.dispose();
  }
}

const shape = (results: Awaited<ReturnType<typeof generate>>["results"]) =>
  results.map((r) => ({ text: r.text, tokens: r.tokens, sources: r.sources, logprobs: r.logprobs, finishReason: r.finishReason, acceptanceRate: r.acceptanceRate }));
type Shaped = ReturnType<typeof shape>;

/** `actual` is the recorded output: all of it exactly but the logprobs, which agree to 1e-6. */
function assertRecorded(actual: { results: Shaped; speculative?: unknown }, expected: unknown, message: string): void {
  const recorded = expected as { results: Shaped; speculative?: unknown };
  const withoutLogprobs = (x: { results: Shaped; speculative?: unknown }) => ({ ...x, results: x.results.map(({ logprobs: _, ...rest }) => rest) });
  assert.deepEqual(withoutLogprobs(actual), withoutLogprobs(recorded), message);
  actual.results.forEach((r, i) => {
    const want = recorded.results[i].logprobs;
    assert.equal(r.logprobs.length, want.length, message);
    r.logprobs.forEach((lp, j) => assert.ok(Math.abs(lp - want[j]) <= 1e-6, `${message}: logprob ${j} of sample ${i} is ${lp}, recorded ${want[j]}`));
  });
}

describe("decoding on a fake pair equals the recorded outputs", () => {
  for (const c of DECODING_CASES) {
    it(c.name, async () => {
      for (const s of SCHEDULES) {
        const { results, speculative } = await generate({ ...c.decoding, ...s.decoding } as DecodingInput, c.seed);
        // Fixed-length drafts are deterministic, so the round statistics are recorded too (re-recorded
        // when the prompt's round stopped drafting: 3 fewer drafts per sample, same outputs).
        const expected = golden[`${c.name} / ${s.name}`] as { results: unknown; speculative?: unknown };
        assertRecorded({ results: shape(results), ...(s.name === "speculative k=3" ? { speculative } : {}) }, expected, `${c.name} / ${s.name}`);
      }
    });
  }

  it("min-p is applied, and speculative decoding with it equals sequential", async () => {
    const base = { strategy: "cosec-plus", temperature: 1, topK: 0, topP: 1 } as const;
    const off = shape((await generate({ ...base, speculative: false }, 3)).results);
    const on = shape((await generate({ ...base, minP: 0.3, speculative: false }, 3)).results);
    assert.notDeepEqual(on, off, "a min-p of 0.3 changes what is sampled");
    for (const draftMax of [undefined, 3]) {
      assert.deepEqual(shape((await generate({ ...base, minP: 0.3, speculative: true, draftMax }, 3)).results), on);
    }
    // min-p 0 is the recorded output (the declared default leaves every existing run alone).
    assertRecorded({ results: shape((await generate({ ...base, minP: 0, speculative: false }, 5)).results) }, { results: (golden["cosec-plus full softmax / sequential"] as { results: unknown }).results }, "min-p 0");
  });

  it("draft p_min: speculative output with it still equals sequential, and unsure proposals are not drafted past", async () => {
    for (const c of DECODING_CASES) {
      const expected = golden[`${c.name} / sequential`] as { results: unknown };
      const plain = (await generate({ ...c.decoding, speculative: true, draftMax: 3 } as DecodingInput, c.seed)).speculative!;
      for (const draftPMin of [0.5, 0.99]) {
        const { results, speculative } = await generate({ ...c.decoding, speculative: true, draftMax: 3, draftPMin } as DecodingInput, c.seed);
        assertRecorded({ results: shape(results) }, { results: expected.results }, `${c.name} / p_min ${draftPMin}`);
        assert.ok(speculative!.drafted <= plain.drafted, `${c.name}: p_min ${draftPMin} drafts no more than none (${speculative!.drafted} vs ${plain.drafted})`);
      }
    }
    // On a sampled case the fake expert is unsure somewhere: p_min 0.99 drafts fewer tokens.
    const sampled = DECODING_CASES.find((c) => Number(c.decoding.temperature ?? 0.4) >= 1) ?? DECODING_CASES[0];
    const none = (await generate({ ...sampled.decoding, speculative: true, draftMax: 3 } as DecodingInput, sampled.seed)).speculative!;
    const strict = (await generate({ ...sampled.decoding, speculative: true, draftMax: 3, draftPMin: 0.99 } as DecodingInput, sampled.seed)).speculative!;
    assert.ok(strict.drafted < none.drafted, `p_min 0.99 drafted ${strict.drafted}, none ${none.drafted}`);
  });

  it("an abort stops both schedules at once: no token after the one that aborted", async () => {
    // The expert alone keeps every draft: a round of 4 drafts decides 5 tokens, in one loop.
    const cases = ["expert", "cosec-plus"].flatMap((strategy) =>
      [{ speculative: false }, { speculative: true, draftMax: 4 }, { speculative: true }].map((s) => ({ strategy, ...s }) as DecodingInput),
    );
    for (const decoding of cases) {
      const engine = Engine.fromBackends(fakePair());
      try {
        const ctl = new AbortController();
        let after = 0;
        const results = await engine.generate(RUN.prompt, {
          decoding,
          maxTokens: 40,
          seed: 2,
          signal: ctl.signal,
          onToken: (e) => {
            if (ctl.signal.aborted) after++;
            if (e.token >= 0 && !ctl.signal.aborted && e.text.length > 0) ctl.abort();
          },
        });
        assert.equal(after, 0, `${JSON.stringify(decoding)}: tokens after the abort`);
        assert.equal(results[0].tokens.length, 1, JSON.stringify(decoding));
        assert.equal(results[0].finishReason, "aborted");
      } finally {
        await engine.dispose();
      }
    }
  });
});
