// Distribution maths on raw logits (one Float32Array over the vocabulary), written once for every
// rule. Warpers follow Hugging Face's order: temperature, top-k, top-p, then min-p. The passes over
// the whole vocabulary run in native kernels; only the few candidates that can matter are sorted.
// Sampling is Gumbel-max keyed by the position's random key (see gumbelMax in the addon for why).
import { kernels } from "./kernels.ts";
import { gumbelFor } from "./rng.ts";
import type { SamplingSettings } from "./types.ts";

export function argmax(logits: Float32Array): number {
  return kernels().argmax(logits);
}

/** log Σ exp(scale·logits): the normaliser of softmax(scale·logits). */
export function logSumExp(logits: Float32Array, scale = 1): number {
  return kernels().logSumExp(logits, scale);
}

/**
 * Samples softmax(scale·logits) over the whole vocabulary (Gumbel-max with per-token noise); `lse`:
 * the normaliser logSumExp(logits, scale) when the caller has it already.
 */
export function sampleFull(logits: Float32Array, key: number, scale = 1, lse = kernels().logSumExp(logits, scale)): { token: number; logprob: number } {
  const token = kernels().gumbelMax(logits, scale, key);
  return { token, logprob: logits[token] * scale - lse };
}

/**
 * A truncated warped distribution: candidate ids (most probable first) with their probabilities
 * after temperature, top-k and top-p, renormalised. `null` when nothing truncates (full softmax).
 */
export interface WarpedDistribution {
  tokens: Int32Array;
  probs: Float64Array;
}

let idx = new Int32Array(64);

/** Ids of the logits >= threshold, most probable first. */
function atLeast(logits: Float32Array, threshold: number): Int32Array {
  let count = kernels().atLeast(logits, threshold, idx);
  if (count > idx.length) {
    idx = new Int32Array(count);
    count = kernels().atLeast(logits, threshold, idx);
  }
  return idx.subarray(0, count);
}

function candidates(logits: Float32Array, s: SamplingSettings, scale: number): Int32Array {
  if (s.topK > 0 && s.topK < logits.length) {
    if (idx.length < s.topK) idx = new Int32Array(s.topK);
    return idx.subarray(0, kernels().topK(logits, s.topK, idx));
  }
  // Min-p alone: p >= minP·p_max is scale·logit >= scale·max + ln(minP).
  if (s.topP >= 1) return atLeast(logits, logits[argmax(logits)] + Math.log(s.minP) / scale);
  // Top-p: every token with p >= cut, lowering the cut until they hold topP of the mass.
  // Tokens left out are less probable than every candidate, so the nucleus is a prefix, exactly.
  const lse = kernels().logSumExp(logits, scale);
  for (let cutLog = Math.log(1e-3); ; cutLog = cutLog < -60 ? -Infinity : cutLog * 3) {
    const found = atLeast(logits, cutLog === -Infinity ? -Infinity : (cutLog + lse) / scale);
    let mass = 0;
    for (const t of found) mass += Math.exp(logits[t] * scale - lse);
    if (mass >= s.topP || cutLog === -Infinity) return found;
  }
}

export function warp(logits: Float32Array, s: SamplingSettings): WarpedDistribution | null {
  if (s.temperature <= 0) return { tokens: Int32Array.of(argmax(logits)), probs: Float64Array.of(1) };
  const useTopK = s.topK > 0 && s.topK < logits.length;
  if (!useTopK && s.topP >= 1 && !(s.minP > 0)) return null;
  const scale = 1 / s.temperature;
  const tokens = candidates(logits, s, scale);
  const m = logits[tokens[0]] * scale;
  const probs = new Float64Array(tokens.length);
  let z = 0;
  for (let i = 0; i < tokens.length; i++) z += probs[i] = Math.exp(logits[tokens[i]] * scale - m);
  let keep = tokens.length;
  let cum = 0;
  for (let i = 0; i < tokens.length; i++) {
    probs[i] /= z;
    if (s.topP < 1 && keep === tokens.length) {
      cum += probs[i];
      if (cum >= s.topP) keep = i + 1;
    }
  }
  // Min-p, after top-p as in Hugging Face: drop what is below minP × the top token's probability.
  while (s.minP > 0 && keep > 1 && probs[keep - 1] < s.minP * probs[0]) keep--;
  if (keep < tokens.length) {
    let zz = 0;
    for (let i = 0; i < keep; i++) zz += probs[i];
    for (let i = 0; i < keep; i++) probs[i] /= zz;
  }
  return { tokens: tokens.slice(0, keep), probs: probs.slice(0, keep) };
}

/** Samples the warped distribution under `key`; returns the token and its warped log-prob. */
export function sampleWarped(logits: Float32Array, s: SamplingSettings, key: number): { token: number; logprob: number } {
  if (s.temperature <= 0) return { token: argmax(logits), logprob: 0 };
  const d = warp(logits, s);
  if (!d) return sampleFull(logits, key, 1 / s.temperature);
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < d.tokens.length; i++) {
    const v = Math.log(d.probs[i]) + gumbelFor(key, d.tokens[i]);
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return { token: d.tokens[best], logprob: Math.log(d.probs[best]) };
}

/** Warped probability of one token (0 when truncated away). */
export function warpedProb(logits: Float32Array, s: SamplingSettings, token: number): number {
  if (s.temperature <= 0) return argmax(logits) === token ? 1 : 0;
  const d = warp(logits, s);
  if (!d) {
    const scale = 1 / s.temperature;
    return Math.exp(logits[token] * scale - logSumExp(logits, scale));
  }
  const i = d.tokens.indexOf(token);
  return i < 0 ? 0 : d.probs[i];
}
