// Renders trainer progress events as a one-line bar: step, loss, tokens/s and ETA.

import type { ProgressEvent } from "./events.ts";

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function formatRate(tokensPerSecond: number): string {
  if (tokensPerSecond >= 1e6) return `${(tokensPerSecond / 1e6).toFixed(2)}M tok/s`;
  if (tokensPerSecond >= 1e4) return `${(tokensPerSecond / 1e3).toFixed(1)}k tok/s`;
  return `${tokensPerSecond.toFixed(0)} tok/s`;
}

export function renderProgress(e: ProgressEvent, width = 24): string {
  const frac = e.steps > 0 ? Math.min(1, Math.max(0, e.step / e.steps)) : 0;
  const filled = Math.round(frac * width);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  const loss = e.loss === null ? "nan" : e.loss.toFixed(4);
  return `[${bar}] step ${e.step}/${e.steps}  loss ${loss}  ${formatRate(e.tokens_per_s)}  ETA ${formatDuration(e.eta_s)}`;
}

export interface ProgressSink {
  write(text: string): void;
  isTTY?: boolean;
}

/** On a terminal, redraws one line; otherwise prints a line about every 10% of the run. */
export class ProgressBar {
  private lastPrinted = -1;
  private drawn = false;

  constructor(private readonly out: ProgressSink = process.stderr) {}

  update(e: ProgressEvent): void {
    const line = renderProgress(e);
    if (this.out.isTTY) {
      this.out.write(`\r${line}\x1b[K`);
      this.drawn = true;
      return;
    }
    const every = Math.max(1, Math.floor(e.steps / 10));
    if (e.step === e.steps || this.lastPrinted < 0 || e.step - this.lastPrinted >= every) {
      this.out.write(line + "\n");
      this.lastPrinted = e.step;
    }
  }

  /** Ends the bar's line before other output. */
  break(): void {
    if (this.drawn) this.out.write("\n");
    this.drawn = false;
  }
}
