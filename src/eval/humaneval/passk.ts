// pass@k with the unbiased estimator of Chen et al. 2021 (Codex paper), and paired differences.
import { mulberry32 } from "../stats.ts";

import { InvalidArgumentError } from "../../errors.ts";

/**
 * Probability that at least one of k samples drawn without replacement from n (c correct) passes:
 * 1 - C(n-c, k) / C(n, k), computed as 1 - prod_{i=n-c+1..n} (1 - k/i) to stay stable for large n.
 * Undefined for n < k (there are not k samples to draw): throws.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 0 || c < 0 || k < 1) {
    throw new InvalidArgumentError("pass@k", `need integers n >= 0, c >= 0, k >= 1 (got n=${n}, c=${c}, k=${k})`);
  }
  if (c > n) throw new InvalidArgumentError("pass@k", `c=${c} correct of n=${n} samples is impossible`);
  if (n < k) throw new InvalidArgumentError("pass@k", `pass@${k} needs at least ${k} samples per problem (got ${n})`);
  if (n - c < k) return 1;
  let prodFail = 1;
  for (let i = n - c + 1; i <= n; i++) prodFail *= 1 - k / i;
  return 1 - prodFail;
}


export interface PairedDifference {
  /** Problems that both strategies have enough samples for. */
  problems: number;
  /** Mean over problems of (pass@k of B - pass@k of A). */
  mean: number;
  /** Normal-approximation 95% interval: mean ± 1.96·sd/√m. */
  normal95: [number, number];
  /** Percentile bootstrap 95% interval over problems (resampled with replacement). */
  bootstrap95: [number, number];
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Mean of per-problem differences with 95% intervals (normal and bootstrap). */
export function pairedDifference(diffs: readonly number[], options: { resamples?: number; seed?: number } = {}): PairedDifference {
  const m = diffs.length;
  if (m === 0) return { problems: 0, mean: NaN, normal95: [NaN, NaN], bootstrap95: [NaN, NaN] };
  const mean = diffs.reduce((a, b) => a + b, 0) / m;
  const variance = m > 1 ? diffs.reduce((a, d) => a + (d - mean) ** 2, 0) / (m - 1) : 0;
  const half = 1.96 * Math.sqrt(variance / m);
  const resamples = options.resamples ?? 2000;
  const rand = mulberry32(options.seed ?? 12345);
  const means: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += diffs[Math.floor(rand() * m)];
    means.push(s / m);
  }
  means.sort((a, b) => a - b);
  return { problems: m, mean, normal95: [mean - half, mean + half], bootstrap95: [quantile(means, 0.025), quantile(means, 0.975)] };
}
