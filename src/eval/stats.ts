// Proportions with 95% Wilson score intervals (well-behaved for small n and for 0 or 1).

export interface Proportion {
  successes: number;
  total: number;
  /** successes / total, null when total is 0. */
  value: number | null;
  low: number | null;
  high: number | null;
}

export function wilson(successes: number, total: number, z = 1.959964): Proportion {
  if (total === 0) return { successes, total, value: null, low: null, high: null };
  const p = successes / total;
  const z2 = z * z;
  const denom = 1 + z2 / total;
  const centre = (p + z2 / (2 * total)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total))) / denom;
  return { successes, total, value: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Deterministic PRNG (mulberry32) so that bootstrap intervals are reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
