// The trainer's progress protocol (trainer/cosec_trainer/progress.py): one JSON object per stdout
// line, with an `event` name. Anything else on stdout is passed through as text.

export interface ProgressEvent {
  event: "progress";
  step: number;
  steps: number;
  loss: number | null;
  lr: number;
  tokens_per_s: number;
  eta_s: number | null;
}

export type TrainerEvent =
  | ProgressEvent
  | { event: "start"; phase: string; steps: number; start_step: number; trainable_params: number; world: number; precision?: "fp32" | "bf16" }
  | ({ event: "eval"; step: number; val_loss: number } & Record<string, unknown>)
  | { event: "checkpoint"; step: number; path: string }
  | ({ event: "done" } & Record<string, unknown>)
  | { event: "error"; message: string };

/** Parses one stdout line; null when it is not a protocol event. */
export function parseEventLine(line: string): TrainerEvent | null {
  const text = line.trim();
  if (!text.startsWith("{")) return null;
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === "object" && typeof (v as { event?: unknown }).event === "string") return v as TrainerEvent;
  } catch {
    /* not JSON: plain output */
  }
  return null;
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
