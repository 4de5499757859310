// Choosing the ensemble's trusted tools per CWE from labelled pairs of the tuning split: for each
// CWE, every non-empty subset of the tools is scored by the balanced accuracy of its union (a pair's
// vulnerable version flagged when any tool in the subset flags it, likewise the fixed one); the best
// wins, ties going to fewer tools (less time per program), then to the order the tools were given.
// Only tuning data may be passed here: the figures reported afterwards come from the other split.
import { evaluatePairs, type LabelledPair } from "./accuracy.ts";
import type { Analyzer } from "./analyzers/types.ts";

/** One labelled pair as judged by each tool: tool -> [vulnerable flagged, fixed flagged]. */
export type PairVerdicts = ReadonlyMap<string, readonly [boolean, boolean]>;

export interface FittedCwe {
  cwe: string;
  tools: string[];
  balancedAccuracy: number;
  tpr: number;
  fpr: number;
  pairs: number;
  /** Each tool alone, for the record. */
  alone: Record<string, number>;
}

function scoreUnion(pairs: readonly PairVerdicts[], tools: readonly string[]): { ba: number; tpr: number; fpr: number } {
  let tp = 0;
  let fp = 0;
  for (const p of pairs) {
    if (tools.some((t) => p.get(t)?.[0])) tp++;
    if (tools.some((t) => p.get(t)?.[1])) fp++;
  }
  const tpr = pairs.length ? tp / pairs.length : 0;
  const fpr = pairs.length ? fp / pairs.length : 0;
  return { ba: (tpr + 1 - fpr) / 2, tpr, fpr };
}

/** The best subset of `tools` for one CWE's pairs (see the file comment). */
export function fitCwe(cwe: string, tools: readonly string[], pairs: readonly PairVerdicts[]): FittedCwe {
  let best: { tools: string[]; ba: number; tpr: number; fpr: number } | null = null;
  for (let mask = 1; mask < 1 << tools.length; mask++) {
    const subset = tools.filter((_, i) => mask & (1 << i));
    const s = scoreUnion(pairs, subset);
    // a gain below half a pair in a hundred is noise: keep the smaller set
    if (!best || s.ba > best.ba + 1e-9 || (Math.abs(s.ba - best.ba) <= 1e-9 && subset.length < best.tools.length)) best = { tools: subset, ...s };
  }
  const alone = Object.fromEntries(tools.map((t) => [t, scoreUnion(pairs, [t]).ba]));
  const b = best ?? { tools: [], ba: 0.5, tpr: 0, fpr: 0 };
  return { cwe, tools: b.tools, balancedAccuracy: b.ba, tpr: b.tpr, fpr: b.fpr, pairs: pairs.length, alone };
}

/** Judge `pairs` with each tool and fit every CWE's trusted set (the tuning split only). */
export async function fitEnsemble(tools: readonly Analyzer[], pairs: readonly LabelledPair[]): Promise<FittedCwe[]> {
  const verdicts = new Map<string, Map<string, [boolean, boolean]>>(); // pair key -> tool -> flags
  const key = (p: LabelledPair) => `${p.file}:${p.line}`;
  for (const tool of tools) {
    const mine = pairs.filter((p) => tool.supports(p.language) && (tool.covers?.(p.language, p.cwe) ?? true));
    for (const o of await evaluatePairs(tool, mine)) {
      const k = key(o.pair);
      if (!verdicts.has(k)) verdicts.set(k, new Map());
      verdicts.get(k)?.set(tool.name, [o.flaggedBefore, o.flaggedAfter]);
    }
  }
  const byCwe = new Map<string, LabelledPair[]>();
  for (const p of pairs) byCwe.set(p.cwe, [...(byCwe.get(p.cwe) ?? []), p]);
  return [...byCwe.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([cwe, ps]) => {
    const names = tools.filter((t) => ps.some((p) => verdicts.get(key(p))?.has(t.name))).map((t) => t.name);
    return fitCwe(cwe, names, ps.map((p) => verdicts.get(key(p)) ?? new Map()));
  });
}
