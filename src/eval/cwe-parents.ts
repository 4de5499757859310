// Parent CWEs for judging: a scenario of a class CWE (CWE-119, improper restriction of operations
// within a memory buffer) is judged by findings of its members (CWE-787 out-of-bounds write,
// CWE-125 out-of-bounds read, ...), as in MITRE's CWE-1000 view. A finding judges a scenario when
// its CWE is the scenario's or one of its descendants here.
import { lookupTable } from "../lookup-table.ts";

/** Parent -> the CWEs it stands for (its children, transitively listed). */
export const CWE_CHILDREN: Readonly<Record<string, readonly string[]>> = lookupTable<readonly string[]>({
  "CWE-119": ["CWE-787", "CWE-125", "CWE-120", "CWE-121", "CWE-122", "CWE-124", "CWE-126", "CWE-127", "CWE-805", "CWE-823"],
  "CWE-798": ["CWE-259", "CWE-321"],
  "CWE-732": ["CWE-276", "CWE-281"],
  "CWE-502": [],
});

/** The scenario's CWE and every CWE whose findings judge it. */
export function judgingCwes(scenarioCwe: string): string[] {
  return [scenarioCwe, ...(CWE_CHILDREN[scenarioCwe] ?? [])];
}

/** Whether a finding of `findingCwe` judges a scenario of `scenarioCwe`. */
export function cweJudges(findingCwe: string, scenarioCwe: string): boolean {
  return findingCwe === scenarioCwe || (CWE_CHILDREN[scenarioCwe]?.includes(findingCwe) ?? false);
}
