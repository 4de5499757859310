// CWE-125/787: `while (n--)` over a signed count that may be negative. The loop stops only at 0,
// so a negative count (a length field read from the data, a subtraction gone below zero) runs it
// about 2^31 times, reading or writing far past the buffer; `while (n-- > 0)` stops.
import type { Finding } from "../types.ts";
import { type FnContext, add, mayBeNegative } from "./context.ts";

export function signedCountdown(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    if (t[i].text !== "while" || t[i + 1]?.text !== "(" || t[i + 3]?.text !== "--" || t[i + 4]?.text !== ")") continue;
    const n = t[i + 2];
    if (n.kind !== "id" || ctx.unsigned.has(n.text) || ctx.pointers.has(n.text) || !mayBeNegative(ctx, n.text, i)) continue;
    // `do { } while (n--);` has its body before
    const close = i + 4;
    if (t[close + 1]?.text === ";") continue;
    const end = t[close + 1]?.text === "{" ? ctx.match[close + 1] : ctx.statementEnd(close + 1);
    const body = t.slice(close + 1, end + 1);
    // the body walks memory: an index, or a pointer stepped with ++
    const writes = body.some((x, k) => (x.text === "]" && body[k + 1]?.text === "=") || (x.text === "*" && body[k + 2]?.text === "++" && body[k + 3]?.text === "="));
    const walks = writes || body.some((x, k) => x.text === "[" || (x.text === "++" && body[k - 1]?.kind === "id" && body[k - 2]?.text === "*"));
    if (!walks) continue;
    add(out, writes ? "CWE-787" : "CWE-125", n, "c-signed-countdown", `'${n.text}' may be negative and 'while (${n.text}--)' then runs far past the buffer`);
  }
}
