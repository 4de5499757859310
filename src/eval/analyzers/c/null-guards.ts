// CWE-476 from the function's own NULL tests: a pointer (a variable or a member path such as
// `a->b`) that the function tests for NULL somewhere may be NULL, so each dereference of it must
// sit under a test: inside the branch of a condition on it, after `p &&` in the same expression,
// or after an early exit (`if (!p) return ..;`). Two shapes are reported:
//   - tested, then dereferenced outside the scope of every test (`if (p) {..} p->x`);
//   - dereferenced, then tested later with no reassignment in between (the test comes too late).
// Tests in cleanup code (`if (p) free(p)`, after an error label) say nothing about the main path.
import type { Finding } from "../types.ts";
import type { Token } from "./lexer.ts";
import { CHECK_CALLS, type FnContext, FREE_RE, JUMPS, KEYWORDS, add, pathAt } from "./context.ts";

/** An if/while/for: its condition's parentheses and the extent of its body (and else body). */
interface Control {
  kw: string;
  open: number;
  close: number;
  body: [number, number];
  other: [number, number] | null;
}

/** Bodies ending in a jump or in a call that by name does not come back leave the function. */
const NO_RETURN_CALL = /(^[A-Z][A-Z0-9_]*$|throw|Throw|fail|Fail|abort|panic|die$|fatal|Fatal|bail)/;

function controls(ctx: FnContext): Control[] {
  const t = ctx.toks;
  const out: Control[] = [];
  const extent = (s: number): [number, number] => {
    if (t[s]?.text === "{") return [s, ctx.match[s] > s ? ctx.match[s] : ctx.fn.close];
    // a braceless body: one statement, or a nested control with its own body
    if (/^(if|while|for)$/.test(t[s]?.text ?? "") && t[s + 1]?.text === "(") {
      const c = ctx.match[s + 1];
      if (c > s) {
        const [, e] = extent(c + 1);
        if (t[s].text === "if" && t[e + 1]?.text === "else") return [s, extent(e + 2)[1]];
        return [s, e];
      }
    }
    return [s, ctx.statementEnd(s)];
  };
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    const kw = t[i].text;
    if (t[i].kind !== "id" || !/^(if|while|for)$/.test(kw) || t[i + 1]?.text !== "(") continue;
    const close = ctx.match[i + 1];
    if (close < 0 || close >= ctx.fn.close) continue;
    // `do { } while (c);` has no body after its condition
    if (kw === "while" && t[close + 1]?.text === ";") continue;
    const body = extent(close + 1);
    let other: [number, number] | null = null;
    if (kw === "if" && t[body[1] + 1]?.text === "else") other = extent(body[1] + 2);
    out.push({ kw, open: i + 1, close, body, other });
  }
  return out;
}

/** Is `path` at `k` tested as a pointer (`!p`, `p == NULL`, `if (p)`, `p &&`, `p ?`)? */
function testAt(ctx: FnContext, k: number, path: string[]): boolean {
  const t = ctx.toks;
  const last = k + path.length - 1;
  const next = t[last + 1]?.text ?? "";
  const prev = t[k - 1]?.text ?? "";
  if (/^(->|\.|\[|\(|=|\+\+|--)$/.test(next) || prev === "&" || prev === "*" || prev === "sizeof") return false;
  const nul = (x: Token | undefined) => !!x && /^(NULL|0|nullptr)$/.test(x.text);
  if (prev === "!") return true;
  if ((next === "==" || next === "!=") && nul(t[last + 2])) return true;
  if ((prev === "==" || prev === "!=") && nul(t[k - 2])) return true;
  if (next === "&&" || next === "||" || next === "?") return true;
  if ((prev === "&&" || prev === "||") && (next === ")" || next === ";" || next === "&&" || next === "||")) return true;
  if (prev === "(" && next === ")") {
    const owner = t[k - 2]?.text ?? "";
    return owner === "if" || owner === "while" || CHECK_CALLS.test(owner);
  }
  // `for (..; p; ..)`
  return prev === ";" && next === ";";
}

/** Paths (`p`, `a->b`, `a.b->c`) dereferenced with `->` in the function. */
function dereferencedPaths(ctx: FnContext): Map<string, string[]> {
  const t = ctx.toks;
  const out = new Map<string, string[]>();
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    if (t[i].kind !== "id" || KEYWORDS.has(t[i].text) || t[i - 1]?.text === "->" || t[i - 1]?.text === ".") continue;
    const parts = [t[i].text];
    let k = i + 1;
    for (;;) {
      if (t[k]?.text === "->" && t[k + 1]?.kind === "id") out.set(parts.join(""), [...parts]);
      if (parts.length >= 5 || !(t[k]?.text === "->" || t[k]?.text === ".") || t[k + 1]?.kind !== "id") break;
      parts.push(t[k].text, t[k + 1].text);
      k += 2;
    }
  }
  return out;
}

export function nullGuards(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  const ctl = controls(ctx);
  // error labels: code after the first one is cleanup, not the main path
  let cleanup = ctx.fn.close;
  for (let k = ctx.fn.open + 1; k < ctx.fn.close; k++) {
    if (t[k].kind === "id" && t[k + 1]?.text === ":" && /^[;{}]$/.test(t[k - 1]?.text ?? "") && t[k].text !== "default" &&
      t[k + 2]?.text !== ":") {
      cleanup = k;
      break;
    }
  }
  const within = (k: number, r: [number, number] | null) => !!r && k > r[0] && k <= r[1];
  const sameStatementStart = (k: number) => {
    let s = k;
    while (s > ctx.fn.open && !/^[;{}]$/.test(t[s - 1].text)) s--;
    return s;
  };
  for (const path of dereferencedPaths(ctx).values()) {
    const n = path.length;
    const assigns: number[] = [];
    const tests: number[] = [];
    const derefs: number[] = [];
    for (let k = ctx.fn.open + 1; k < ctx.fn.close; k++) {
      if (!pathAt(t, k, path)) continue;
      const next = t[k + n]?.text;
      // an assignment takes effect at the end of its statement (`p = p->next` reads the old p)
      if (next === "=") assigns.push(ctx.statementEnd(k));
      else if (next === "->" && t[k - 2]?.text !== "sizeof") derefs.push(k);
      else if (testAt(ctx, k, path)) tests.push(k);
      // passed by address to a call that may set it: `get(&p)`
      else if (t[k - 1]?.text === "&" && (t[k - 2]?.text === "(" || t[k - 2]?.text === ",")) assigns.push(ctx.statementEnd(k));
    }
    if (tests.length === 0 || derefs.length === 0) continue;
    // a prefix of the path reassigned also changes it (`a = ..` before `a->b`)
    const lastAssignBefore = (k: number) => {
      let a = -1;
      for (const x of assigns) if (x < k) a = x;
      return a;
    };
    /** Is the test at `x` in a cleanup-only condition (`if (p) free(p)`)? */
    const cleanupTest = (x: number) => {
      if (x >= cleanup) return true;
      const c = ctl.find((c) => x > c.open && x < c.close);
      if (!c || c.kw !== "if") return false;
      const body = t.slice(c.body[0], c.body[1] + 1);
      return body.some((y, m) => FREE_RE.test(y.text) && body[m + 1]?.text === "(") && body.length < 16;
    };
    /** Is the test at `x` inside an assertion statement (`assert(..)`, `BUG_ON(..)`)? */
    const assertion = (x: number) => {
      const s = sameStatementStart(x);
      return t[s].kind === "id" && t[s].text !== "if" && t[s].text !== "while" && CHECK_CALLS.test(t[s].text) && t[s + 1]?.text === "(";
    };
    const guarded = (d: number) => {
      const from = lastAssignBefore(d);
      // inside the branch of a condition that tests it, or in a loop that tests it
      for (const c of ctl) {
        if (!(within(d, c.body) || within(d, c.other) || (d > c.open && d < c.close))) continue;
        // (a loop's condition runs again after any step, so it guards its body whatever came before)
        const loopBody = c.kw !== "if" && d > c.close;
        if (tests.some((x) => x > c.open && x < c.close && (x > from || loopBody) && (x < d || d > c.close))) return true;
      }
      // earlier in the same expression: `p && p->x`, `!p || p->x`
      const s = sameStatementStart(d);
      if (tests.some((x) => x >= s && x < d && x > from)) return true;
      // an earlier assertion: `assert(p)`, `BUG_ON(!p)`
      if (tests.some((x) => x > from && x < d && assertion(x))) return true;
      // an earlier `if (!p) return;` (or one that reassigns p) in a block that still encloses d
      for (const c of ctl) {
        if (c.kw !== "if" || c.body[1] >= d || c.open < from) continue;
        if (!tests.some((x) => x > c.open && x < c.close)) continue;
        const [b0, b1] = c.body;
        const exits = t.slice(b0, b1 + 1).some((y, m) => JUMPS.has(y.text) || (y.kind === "id" && t[b0 + m + 1]?.text === "(" && NO_RETURN_CALL.test(y.text))) ||
          assigns.some((a) => a > b0 && a <= b1);
        const elseExits = c.other && t.slice(c.other[0], c.other[1] + 1).some((y) => JUMPS.has(y.text));
        if (exits || elseExits) return true;
      }
      return false;
    };
    for (const d of derefs) {
      if (d >= cleanup || guarded(d)) continue;
      const from = lastAssignBefore(d);
      const before = tests.some((x) => x > from && x < d && !cleanupTest(x));
      // a later test with no assignment in between
      const nextAssign = assigns.find((a) => a > d) ?? ctx.fn.close;
      const after = tests.find((x) => x > d && x < nextAssign && !cleanupTest(x));
      if (!before && after === undefined) continue;
      const name = path.join("");
      add(out, "CWE-476", t[d], "c-null-test-unguarded",
        before ? `'${name}' is tested for NULL elsewhere but dereferenced here without a test`
          : `'${name}' is dereferenced before its NULL test on line ${t[after as number].line}`);
      break;
    }
  }
}
