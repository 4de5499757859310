// The trainer's progress protocol (trainer/contract.json, written by cosec_trainer/progress.py):
// one JSON object per stdout line with an `event` kind. Other stdout lines are plain text.
import { eventProblem } from "./contract.ts";
import { TrainerProtocolError } from "./errors.ts";

/** Each kind's fields as TypeScript sees them; `ContractMatches` below holds them to the JSON file. */
interface EventFields {
  start: { phase: string; steps: number; start_step: number; trainable_params: number; world: number; precision?: "fp32" | "bf16" };
  progress: { step: number; steps: number; loss: number | null; lr: number; tokens_per_s: number; eta_s: number | null };
  eval: { step: number; val_loss: number | null };
  checkpoint: { step: number; path: string };
  done: object;
  error: { message: string };
  log: { message: string };
}

/** Kinds that carry more fields than listed (eval: the phase's metrics; done: its results). */
type OpenKind = "eval" | "done";

export type TrainerEvent = {
  [K in keyof EventFields]: { event: K } & EventFields[K] & (K extends OpenKind ? Record<string, unknown> : unknown);
}[keyof EventFields];

export type ProgressEvent = Extract<TrainerEvent, { event: "progress" }>;

// Compile-time tie to trainer/contract.json: a kind or field renamed, added or made optional on
// one side only fails `tsc` here (the values' types are checked at run time, by eventProblem).
type Contract = typeof import("../../trainer/contract.json");
type Events = Contract["events"];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type OptionalKeys<T> = Exclude<keyof T, RequiredKeys<T>>;
type ContractOptional<R> = R extends { optional: infer O } ? keyof O : never;
type ContractOpen<R> = R extends { extra: boolean } ? true : false;
type KindMatches<K extends keyof EventFields & keyof Events> = [
  Same<RequiredKeys<EventFields[K]>, keyof Events[K]["required"]>,
  Same<OptionalKeys<EventFields[K]>, ContractOptional<Events[K]>>,
  Same<K extends OpenKind ? true : false, ContractOpen<Events[K]>>,
];
/** The kinds that differ between EventFields and the contract; tsc names them in its error. */
type Mismatched =
  | Exclude<keyof Events, keyof EventFields>
  | Exclude<keyof EventFields, keyof Events>
  | { [K in keyof EventFields & keyof Events]: Same<KindMatches<K>, [true, true, true]> extends true ? never : K }[keyof EventFields & keyof Events];
const contractMismatch: [Mismatched] extends [never] ? "none" : Mismatched = "none";
void contractMismatch;

/** Parses one stdout line: null when it is plain text (not a JSON object with an `event`);
 * TrainerProtocolError when it is an event the contract does not allow. */
export function parseEventLine(line: string): TrainerEvent | null {
  const text = line.trim();
  if (!text.startsWith("{")) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null; // not JSON: plain output
  }
  if (!v || typeof v !== "object" || typeof (v as { event?: unknown }).event !== "string") return null;
  const problem = eventProblem(v as Record<string, unknown>);
  if (problem) throw new TrainerProtocolError(text, problem);
  return v as TrainerEvent;
}

/** Splits a byte stream into lines, keeping the unfinished tail for the next chunk. */
export class LineSplitter {
  private buf = "";

  push(chunk: string): string[] {
    this.buf += chunk;
    const lines = this.buf.split("\n");
    this.buf = lines.pop() ?? "";
    return lines;
  }

  flush(): string[] {
    const rest = this.buf;
    this.buf = "";
    return rest ? [rest] : [];
  }
}
