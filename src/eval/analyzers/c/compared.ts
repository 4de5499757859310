// Which values a function bounds: the variables and member paths (`n`, `hdr->len`, `s.count`) that
// appear in a relational comparison (either side, inside sums and casts: `off + len > size`), in a
// min/max/clamp, or on the left of `%` before a given point. A value never bounded this way has
// not been range-checked by the function.
import type { Token } from "./lexer.ts";
import { type FnContext, KEYWORDS, RELATIONAL } from "./context.ts";

/** Every member path starting at an identifier in [from, to): `a`, `a->b`, `a->b.c` (each prefix). */
export function pathsIn(t: Token[], from: number, to: number): string[] {
  const out: string[] = [];
  for (let k = from; k < to; k++) {
    if (t[k].kind !== "id" || KEYWORDS.has(t[k].text) || t[k - 1]?.text === "->" || t[k - 1]?.text === ".") continue;
    let p = t[k].text;
    out.push(p);
    let j = k + 1;
    while (j + 1 < to && (t[j].text === "->" || t[j].text === ".") && t[j + 1].kind === "id") {
      p += t[j].text + t[j + 1].text;
      out.push(p);
      j += 2;
    }
  }
  return out;
}

/** The span of one side of the operator at `op`, up to a boolean/ternary/statement boundary. */
function sideSpan(ctx: FnContext, op: number, dir: -1 | 1): [number, number] {
  const t = ctx.toks;
  let d = 0;
  let k = op + dir;
  for (; k > ctx.fn.open && k < ctx.fn.close; k += dir) {
    const x = t[k].text;
    const opening = dir < 0 ? x === ")" || x === "]" : x === "(" || x === "[";
    const closing = dir < 0 ? x === "(" || x === "[" : x === ")" || x === "]";
    if (opening) d++;
    else if (closing) {
      if (d === 0) break;
      d--;
    } else if (d === 0 && /^(&&|\|\||\?|:|,|;|\{|\}|=|==|!=|<|<=|>|>=)$/.test(x)) break;
  }
  return dir < 0 ? [k + 1, op] : [op + 1, k];
}

const MIN_MAX = /(^|_)(min|max|clamp)(_t)?$|^(MIN|MAX|FFMIN|FFMAX)$|Min$|Max$/;

/** The bounds of one function, collected once. */
export class Bounds {
  private readonly at: { pos: number; paths: Set<string> }[] = [];

  constructor(private readonly ctx: FnContext) {
    const t = ctx.toks;
    for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
      const x = t[i].text;
      if (t[i].kind === "op" && RELATIONAL.has(x)) {
        const [l0, l1] = sideSpan(ctx, i, -1);
        const [r0, r1] = sideSpan(ctx, i, 1);
        this.at.push({ pos: i, paths: new Set([...pathsIn(t, l0, l1), ...pathsIn(t, r0, r1)]) });
      } else if (t[i].kind === "id" && MIN_MAX.test(x) && t[i + 1]?.text === "(") {
        const close = ctx.match[i + 1];
        if (close > i) this.at.push({ pos: i, paths: new Set(pathsIn(t, i + 2, close)) });
      } else if (x === "%" && t[i].kind === "op") {
        this.at.push({ pos: i, paths: new Set(pathsIn(t, sideSpan(ctx, i, -1)[0], i)) });
      }
    }
  }

  /** Was `path` bounded in the function before `before`? */
  has(path: string, before = this.ctx.fn.close): boolean {
    return this.at.some((b) => b.pos < before && b.paths.has(path));
  }
}
