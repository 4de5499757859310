// CWE-125/787 off by one: an index checked against an element count with the inclusive operator,
// so the index may equal the count, one past the last element:
//   `if (i > count) return ..; a[i]`   (the check must reject i == count: `i >= count`)
//   `for (i = 0; i <= count; i++) a[i] = ..`
// A bound is an element count when it is `ARRAY_SIZE(..)`/`sizeof`, or a value named as one
// (count, num, size, len, length, nr, total, entries, capacity, cnt). Names with `max`/`last` are
// inclusive limits by convention and are left alone.
import type { Finding } from "../types.ts";
import { type FnContext, add } from "./context.ts";

const COUNT_NAME = /(count|num|number|size|len|length|nr|total|entries|capacity|cnt)s?$/i;
const INCLUSIVE_NAME = /max|last|end|limit|high|top/i;

/** The bound expression [from, to) names an element count. */
function isCount(ctx: FnContext, from: number, to: number): boolean {
  const t = ctx.toks;
  const toks = t.slice(from, to);
  if (toks.some((x) => x.text === "-" || x.text === "+" || x.text === "/" || x.text === "*")) return false;
  if (toks.some((x) => /^(ARRAY_SIZE|sizeof|nitems|countof|_countof)$/.test(x.text))) return true;
  // the last identifier of a path or a call (`s->num_items`, `v.size()`)
  const ids = toks.filter((x) => x.kind === "id");
  const last = ids[ids.length - 1]?.text ?? "";
  return COUNT_NAME.test(last) && !INCLUSIVE_NAME.test(last) && !/^[A-Z0-9_]+$/.test(last);
}

/** The variable `i` compared at [from, to), when it is a single identifier. */
function single(ctx: FnContext, from: number, to: number): string | null {
  const t = ctx.toks;
  let s = from;
  // past a cast `(int) i`
  if (t[s]?.text === "(" && ctx.match[s] > s && ctx.match[s] < to - 1) s = ctx.match[s] + 1;
  return to - s === 1 && t[s].kind === "id" ? t[s].text : null;
}

/** Bound of one side of a relational operator: up to a boolean operator or bracket. */
function side(ctx: FnContext, op: number, dir: -1 | 1): [number, number] {
  const t = ctx.toks;
  let d = 0;
  let k = op + dir;
  for (; k > ctx.fn.open && k < ctx.fn.close; k += dir) {
    const x = t[k].text;
    if (dir < 0 ? x === ")" || x === "]" : x === "(" || x === "[") d++;
    else if (dir < 0 ? x === "(" || x === "[" : x === ")" || x === "]") {
      if (d === 0) break;
      d--;
    } else if (d === 0 && /^(&&|\|\||\?|:|,|;|\{|\}|=)$/.test(x)) break;
  }
  return dir < 0 ? [k + 1, op] : [op + 1, k];
}

/** Is `name` used as a whole index `[name]` in [from, to)? Returns its position, or -1. */
function indexedBy(ctx: FnContext, name: string, from: number, to: number): number {
  const t = ctx.toks;
  for (let k = from; k < to; k++) {
    if (t[k].text === "[" && t[k + 1]?.text === name && t[k + 2]?.text === "]" && (t[k - 1]?.kind === "id" || t[k - 1]?.text === "]" || t[k - 1]?.text === ")")) return k;
    // reassigned: later uses index another value
    if (t[k].text === name && t[k + 1]?.text === "=" && t[k - 1]?.text !== "->" && t[k - 1]?.text !== ".") return -1;
  }
  return -1;
}

export function offByOne(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    const op = t[i].text;
    if (t[i].kind !== "op" || !(op === ">" || op === "<=" || op === "<")) continue;
    const [l0, l1] = side(ctx, i, -1);
    const [r0, r1] = side(ctx, i, 1);
    if (l0 >= l1 || r0 >= r1) continue;
    // `i > count` / `count < i` rejecting; `i <= count` in a loop condition accepting
    const idx = op === "<" ? single(ctx, r0, r1) : single(ctx, l0, l1);
    const bound: [number, number] = op === "<" ? [l0, l1] : [r0, r1];
    if (!idx || !isCount(ctx, bound[0], bound[1])) continue;
    // find the statement that owns the condition
    let open = l0 - 1;
    while (open > ctx.fn.open && !(t[open].text === "(" && ctx.match[open] >= r1)) open--;
    const owner = t[open - 1]?.text;
    const close = ctx.match[open];
    if (op === "<=") {
      // a loop running up to and including the count, indexing with its counter
      if (owner !== "for" && owner !== "while") continue;
      const body = t[close + 1]?.text === "{" ? [close + 1, ctx.match[close + 1]] : [close + 1, ctx.statementEnd(close + 1)];
      const at = indexedBy(ctx, idx, body[0], body[1]);
      if (at >= 0) add(out, t[at + 3]?.text === "=" ? "CWE-787" : "CWE-125", t[at], "c-off-by-one", `'${idx}' runs up to the count inclusive and indexes one past the end`);
      continue;
    }
    // `if (i > count) reject;` then `a[i]`
    if (owner !== "if") continue;
    const bodyEnd = t[close + 1]?.text === "{" ? ctx.match[close + 1] : ctx.statementEnd(close + 1);
    const rejects = t.slice(close + 1, bodyEnd + 1).some((x) => /^(return|goto|break|continue)$/.test(x.text) || /^[A-Z]\w*(Exception|Error)\w*$|^(error|fail)\w*/.test(x.text));
    if (!rejects) continue;
    const at = indexedBy(ctx, idx, bodyEnd + 1, ctx.fn.close);
    if (at >= 0) add(out, t[at + 3]?.text === "=" ? "CWE-787" : "CWE-125", t[at], "c-off-by-one", `'${idx}' is checked with '${op}' against a count, so it may equal it and index one past the end`);
  }
}
