// The addon's whole-vocabulary kernels against plain JS references, on rows shaped like real
// logits and on the edge cases a fast path could get wrong: ties, -inf, NaN, sizes that are not a
// multiple of a vector or block width, rows where every token is close to the top.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kernels } from "../../src/decoding/kernels.ts";
import { gumbelFor } from "../../src/decoding/rng.ts";
import { mulberry32 as stream } from "../../src/eval/stats.ts";

interface Row {
  name: string;
  x: Float32Array;
}

function rows(): Row[] {
  const out: Row[] = [];
  const sizes = [1, 7, 64, 65, 513, 4096, 50257];
  sizes.forEach((n, si) => {
    const r = stream(1000 + si);
    const make = (f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
    // Logits of a language model: a few high, a long tail of low ones.
    out.push({ name: `peaked/${n}`, x: make((i) => 6 * r() - Math.log(1 + i) * 2) });
    out.push({ name: `flat/${n}`, x: make(() => r()) });
    out.push({ name: `ties/${n}`, x: make(() => Math.round(4 * r()) / 2) });
    out.push({ name: `masked/${n}`, x: make((i) => (i % 3 === 0 ? -Infinity : 3 * r())) });
    out.push({ name: `nan/${n}`, x: make((i) => (i % 5 === 2 ? NaN : 3 * r())) });
  });
  out.push({ name: "all -inf", x: new Float32Array(100).fill(-Infinity) });
  out.push({ name: "top at the end", x: Float32Array.from({ length: 4099 }, (_, i) => (i === 4098 ? 50 : 0)) });
  return out;
}

/** First index of the largest value, NaN never chosen; 0 when nothing beats -inf (the addon's rule). */
function argmaxRef(x: Float32Array): number {
  let best = 0;
  let bv = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > bv) [bv, best] = [x[i], i];
  return best;
}

function topKRef(x: Float32Array, k: number): number[] {
  const ids = Array.from(x.keys()).filter((i) => !Number.isNaN(x[i]));
  ids.sort((a, b) => (x[b] !== x[a] ? x[b] - x[a] : a - b));
  return ids.slice(0, k);
}

function lseRef(x: Float32Array, scale: number): number {
  let m = -Infinity;
  for (const v of x) if (v * scale > m) m = v * scale;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const v of x) if (!Number.isNaN(v)) s += Math.exp(v * scale - m);
  return m + Math.log(s);
}

const K = kernels();

describe("native kernels", () => {
  for (const { name, x } of rows()) {
    it(`agree with the references on ${name}`, () => {
      assert.equal(K.argmax(x), argmaxRef(x), "argmax");
      for (const k of [1, 3, 50, x.length]) {
        const out = new Int32Array(Math.max(k, 1));
        const count = K.topK(x, k, out);
        const ref = topKRef(x, k);
        // NaN rows: the addon's heap has no order for NaN; only rows without NaN are compared whole.
        if (!name.startsWith("nan")) assert.deepEqual(Array.from(out.subarray(0, count)), ref, `topK ${k}`);
      }
      if (!name.startsWith("nan")) {
        for (const scale of [1, 2.5]) {
          const got = K.logSumExp(x, scale);
          const want = lseRef(x, scale);
          if (want === -Infinity) assert.equal(got, -Infinity);
          else assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `logSumExp ${scale}: ${got} vs ${want}`);
        }
      }
      for (const scale of [1, 2.5]) {
        for (const key of [1, 0xdeadbeef, 12345]) {
          const got = K.gumbelMax(x, scale, key);
          // The addon's noise is float maths, the reference's double: they may pick differently
          // only when the two best perturbed values are within that rounding.
          const v = Array.from(x, (xi, i) => xi * scale + gumbelFor(key, i));
          const want = argmaxRef(Float32Array.from(v));
          if (got !== want) {
            const gap = Math.abs(v[got] - v[want]);
            assert.ok(gap < 1e-4 * Math.max(1, Math.abs(v[want])), `gumbelMax ${scale}/${key}: ${got} (${v[got]}) vs ${want} (${v[want]})`);
          }
        }
      }
    });
  }
});

describe("Gumbel-max's skipped blocks", () => {
  it("never hold the winner: many keys on a row falling by steps, where winners spread over blocks", () => {
    // Blocks of 64 tokens (the addon's), each half a nat below the last: the winner lies in any of
    // the first dozen blocks, and the blocks past 20 nats below the top are skipped.
    const x = Float32Array.from({ length: 64 * 60 }, (_, i) => -0.5 * Math.floor(i / 64));
    const spread = new Set<number>();
    for (let key = 1; key <= 400; key++) {
      const got = K.gumbelMax(x, 1, key);
      const v = Array.from(x, (xi, i) => xi + gumbelFor(key, i));
      const want = argmaxRef(Float32Array.from(v));
      if (got !== want) assert.ok(Math.abs(v[got] - v[want]) < 1e-4, `key ${key}: ${got} vs ${want}`);
      spread.add(Math.floor(want / 64));
    }
    assert.ok(spread.size >= 6, `winners fell in ${spread.size} blocks only`);
  });
});
