// CWE-416: a freed pointer used (or freed) again on a path with no reassignment in between.
// Frees are calls (free, kfree, x_destroy, ops->destroy, ...) and C++ `delete`. A path goes on past
// a branch that jumps away, and a `goto` carries it to its label, where error paths often free the
// same pointer again (a double free when it was not set to NULL).
import type { Finding } from "../types.ts";
import { FREE_RE, type FnContext, JUMPS, add, isAssignmentTo, pathAt } from "./context.ts";

/** Function-pointer members that free their argument (`ops->destroy(dev)`). */
const MEMBER_FREE_RE = /^(free|destroy|release|delete)$/;

interface Freed {
  /** The token naming the free (for the message). */
  at: number;
  /** The freed expression: an identifier or a member path like a->b. */
  path: string[];
  /** The end of the freeing statement. */
  end: number;
}

function freedAt(ctx: FnContext, i: number): Freed | null {
  const t = ctx.toks;
  if (t[i].kind !== "id") return null;
  if (t[i].text === "delete") {
    // delete p; delete [] p;
    let k = i + 1;
    if (t[k]?.text === "[" && t[k + 1]?.text === "]") k += 2;
    const end = ctx.statementEnd(k);
    const path = t.slice(k, end).map((x) => x.text);
    if (path.length === 0 || path.length > 5 || path.some((x) => !/^(\w+|->|\.)$/.test(x))) return null;
    return { at: i, path, end };
  }
  if (t[i + 1]?.text !== "(") return null;
  const member = t[i - 1]?.text === "->" || t[i - 1]?.text === ".";
  if (!(member ? MEMBER_FREE_RE.test(t[i].text) : FREE_RE.test(t[i].text))) return null;
  const argEnd = ctx.match[i + 1];
  // free(p), free(p->q); a reference dropped on &p->q (put_device(&d->dev)) counts for p->q
  let path = t.slice(i + 2, argEnd).map((x) => x.text);
  if (path[0] === "&") path = path.slice(1);
  if (path.length === 0 || path.length > 5 || path.some((x) => !/^(\w+|->|\.)$/.test(x))) return null;
  // `p = f(p)` / `return f(p)`: the call hands back what to use next
  const owner = member ? i - 2 : i;
  if (t[owner - 1]?.text === "=" || t[owner - 1]?.text === "return") return null;
  return { at: i, path, end: ctx.statementEnd(i) };
}

/** The index of `label:` in the function, or -1. */
function labelAt(ctx: FnContext, name: string): number {
  const t = ctx.toks;
  for (let k = ctx.fn.open + 1; k < ctx.fn.close; k++) {
    if (t[k].text === name && t[k + 1]?.text === ":" && /^[;{}]$/.test(t[k - 1]?.text ?? "")) return k;
  }
  return -1;
}

/**
 * Walks forward from `from` along the freeing path; returns the index of a use of `path`, or -1.
 * Labels reached by a `goto` on the way are pushed to `labels`.
 */
function scanPath(ctx: FnContext, from: number, path: string[], labels: number[]): number {
  const t = ctx.toks;
  let j = from;
  // block depth relative to the start: a jump at depth 0 ends the path; a jump inside a nested block
  // (or a braceless if) ends only that branch, and the path goes on after it
  let depth = 0;
  const isUse = (k: number) => pathAt(t, k, path) && t[k - 2]?.text !== "sizeof";
  while (j < ctx.fn.close) {
    const x = t[j].text;
    if (x === "{") depth++;
    else if (x === "}") {
      depth = Math.max(0, depth - 1);
      // an `else` branch is another path than the one that ran the block before it
      if (t[j + 1]?.text === "else") {
        const after = t[j + 2]?.text === "{" ? ctx.match[j + 2] : ctx.statementEnd(j + 2);
        j = (after > j ? after : j + 2) + 1;
        continue;
      }
    }
    if (JUMPS.has(x)) {
      // the jump's own statement (return p->v;) still runs on this path
      const jEnd = ctx.statementEnd(j);
      for (let k = j; k < jEnd; k++) if (isUse(k)) return k;
      if (x === "goto" && t[j + 1]?.kind === "id") {
        const label = labelAt(ctx, t[j + 1].text);
        if (label > j) labels.push(label);
      }
      const prev = t[j - 1];
      const braceless =
        prev?.text === "else" || (prev?.text === ")" && /^(if|while|for)$/.test(t[ctx.match[j - 1] - 1]?.text ?? ""));
      if (braceless) {
        j = jEnd + 1;
        continue;
      }
      if (depth > 0) {
        // leave the nested block that jumps; paths that skipped it continue after it
        let d = 0;
        for (; j < ctx.fn.close; j++) {
          if (t[j].text === "{") d++;
          else if (t[j].text === "}") {
            if (d === 0) break;
            d--;
          }
        }
        continue;
      }
      return -1;
    }
    if (pathAt(t, j, path)) {
      if (isAssignmentTo(t, j + path.length - 1) || t[j + path.length]?.text === "=") return -1;
      if (isUse(j)) return j;
    }
    j++;
  }
  return -1;
}

export function useAfterFree(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let i = ctx.fn.open; i < ctx.fn.close; i++) {
    const freed = freedAt(ctx, i);
    if (!freed) continue;
    const labels: number[] = [];
    const seen = new Set<number>();
    let use = scanPath(ctx, freed.end + 1, freed.path, labels);
    while (use < 0 && labels.length > 0) {
      const label = labels.shift() as number;
      if (seen.has(label)) continue;
      seen.add(label);
      use = scanPath(ctx, label + 2, freed.path, labels);
    }
    if (use >= 0) {
      const how = t[freed.at].text === "delete" ? "delete" : `${t[freed.at].text}()`;
      add(out, "CWE-416", t[use], "c-use-after-free", `'${freed.path.join("")}' is used after ${how}`);
    }
  }
}
