// CWE-787: a write into the middle of a buffer sized as if it started at the beginning:
//   recv(s, line + pos, sizeof(line) - 1, 0)      snprintf(&buf[n], sizeof buf, ..)
// The room left after `pos` is `sizeof(line) - pos`; a size of the whole buffer that does not
// subtract the offset writes up to `pos` bytes past the end.
import type { Finding } from "../types.ts";
import type { Token } from "./lexer.ts";
import { type FnContext, add } from "./context.ts";
import { lookupTable } from "../../../lookup-table.ts";

/** Writing calls: index of the destination and of the size among the arguments. */
const DEST_SIZE: Readonly<Record<string, [number, number]>> = lookupTable<[number, number]>({
  memcpy: [0, 2], memmove: [0, 2], memset: [0, 2], strncpy: [0, 2], strncat: [0, 2], snprintf: [0, 1], vsnprintf: [0, 1],
  fgets: [0, 1], read: [1, 2], recv: [1, 2], recvfrom: [1, 2], strlcpy: [0, 2], strlcat: [0, 2], getline: [-1, -1],
});

/** The call's top-level arguments as token index ranges. */
function args(ctx: FnContext, open: number): [number, number][] {
  const t = ctx.toks;
  const close = ctx.match[open];
  const out: [number, number][] = [];
  let start = open + 1;
  let d = 0;
  for (let k = open + 1; k < close; k++) {
    const x = t[k].text;
    if (x === "(" || x === "[" || x === "{") d++;
    else if (x === ")" || x === "]" || x === "}") d--;
    else if (x === "," && d === 0) {
      out.push([start, k]);
      start = k + 1;
    }
  }
  if (close > start) out.push([start, close]);
  return out;
}

/** `B + X` or `&B[X]` (X not 0): the buffer's name and the offset's tokens, or null. */
function offsetInto(t: Token[], [a, b]: [number, number]): { buf: string; off: Token[] } | null {
  // past a cast `(char *) buf + n`
  let s = a;
  if (t[s]?.text === "(" && t[s + 1]?.kind === "id") {
    let c = s + 1;
    while (c < b && (t[c].kind === "id" || t[c].text === "*")) c++;
    if (t[c]?.text === ")") s = c + 1;
  }
  if (t[s]?.kind === "id" && t[s + 1]?.text === "+" && s + 2 < b) return { buf: t[s].text, off: t.slice(s + 2, b) };
  if (t[s]?.text === "&" && t[s + 1]?.kind === "id" && t[s + 2]?.text === "[" && t[b - 1]?.text === "]") {
    const off = t.slice(s + 3, b - 1);
    if (off.length === 1 && off[0].text === "0") return null;
    return { buf: t[s + 1].text, off };
  }
  return null;
}

export function offsetCopy(ctx: FnContext, out: Finding[]): void {
  const t = ctx.toks;
  for (let i = ctx.fn.open + 1; i < ctx.fn.close; i++) {
    const spec = DEST_SIZE[t[i].text];
    if (!spec || spec[0] < 0 || t[i].kind !== "id" || t[i + 1]?.text !== "(" || t[i - 1]?.text === "." || t[i - 1]?.text === "->") continue;
    const as = args(ctx, i + 1);
    const dst = as[spec[0]];
    const size = as[spec[1]];
    if (!dst || !size) continue;
    const into = offsetInto(t, dst);
    if (!into) continue;
    const sz = t.slice(size[0], size[1]);
    // the size measures the whole buffer: sizeof(buf) / sizeof buf
    const whole = sz.some((x, n) => x.text === "sizeof" && (sz[n + 1]?.text === into.buf || (sz[n + 1]?.text === "(" && sz[n + 2]?.text === into.buf && sz[n + 3]?.text === ")")));
    if (!whole) continue;
    // ... and subtracts nothing of the offset
    const offIds = into.off.filter((x) => x.kind === "id" || x.kind === "num").map((x) => x.text);
    if (sz.some((x, n) => x.text === "-" && offIds.includes(sz[n + 1]?.text ?? ""))) continue;
    if (sz.some((x) => x.kind === "id" && x.text !== "sizeof" && x.text !== into.buf && offIds.includes(x.text))) continue;
    add(out, "CWE-787", t[i], "c-offset-full-size", `${t[i].text}() writes at '${into.buf}' + offset but is given the size of the whole buffer`);
  }
}
