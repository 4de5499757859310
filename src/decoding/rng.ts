// Counter-based random numbers: each (seed, sample, position, purpose) maps to fixed uniforms, so
// any evaluation schedule (batched, speculative, resumed) reproduces the same tokens.
import type { PositionRng, RngPurpose } from "./types.ts";

const PURPOSE_CODE: Record<RngPurpose, number> = { "expert-proposal": 1, target: 2, mixed: 3, accept: 4 };

/** murmur3's finaliser: a bijective 32-bit mix with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function combine(h: number, v: number): number {
  return fmix32((h ^ Math.imul(v >>> 0, 0x9e3779b1)) + 0x7f4a7c15);
}

/** A 32-bit key for (seed, sample, position, purpose): the root of that position's numbers. */
export function keyFor(seed: number, sample: number, position: number, purpose: RngPurpose): number {
  const seedLo = seed >>> 0;
  const seedHi = Math.floor(seed / 2 ** 32) >>> 0;
  const h = combine(combine(combine(fmix32(seedLo ^ 0x5bd1e995), seedHi), sample), position);
  return combine(h, PURPOSE_CODE[purpose]);
}

/** A uniform in [0, 1) with 53 random bits, from the key. */
export function uniformFor(seed: number, sample: number, position: number, purpose: RngPurpose): number {
  const h = keyFor(seed, sample, position, purpose);
  const a = combine(h, 0xa5a5a5a5) >>> 5; // 27 bits
  const b = combine(h, 0x3c6ef372) >>> 6; // 26 bits
  return (a * 67108864 + b) / 9007199254740992;
}

/**
 * Gumbel noise for token `id` under `key`; the same formula as the native full-vocabulary kernel
 * (gumbelMax in native/cosec_addon.cpp), in double precision.
 */
export function gumbelFor(key: number, id: number): number {
  const h = fmix32((key ^ fmix32((Math.imul(id, 0x9e3779b1) + 0x7f4a7c15) >>> 0)) >>> 0);
  const u = ((h >>> 8) + 0.5) / 16777216;
  return -Math.log(-Math.log(u));
}

export function positionRng(seed: number, sample: number, position: number): PositionRng {
  return {
    uniform: (purpose) => uniformFor(seed, sample, position, purpose),
    key: (purpose) => keyFor(seed, sample, position, purpose),
  };
}
