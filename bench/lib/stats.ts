// Small statistics shared by the benchmarks.

/** The upper median (the middle element of the sorted values; of two, the higher). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}
