// A one-line progress bar with ETA on stderr (redrawn in place on a terminal, sparse otherwise).

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): (done: number, total: number) => void {
  const start = Date.now();
  let startDone: number | null = null;
  let lastPrint = 0;
  return (done, total) => {
    startDone ??= done;
    const now = Date.now();
    if (done < total && now - lastPrint < (stream.isTTY ? 200 : 5000)) return;
    lastPrint = now;
    const frac = total ? done / total : 1;
    const width = 30;
    const filled = Math.round(frac * width);
    const rate = (done - startDone) / Math.max(1e-3, (now - start) / 1000);
    const eta = rate > 0 ? (total - done) / rate : NaN;
    const etaText = Number.isFinite(eta) ? `${Math.floor(eta / 60)}m${String(Math.round(eta % 60)).padStart(2, "0")}s` : "?";
    const line = `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ETA ${etaText}`;
    stream.write(stream.isTTY ? `\r${line}${done >= total ? "\n" : ""}` : `${line}\n`);
  };
}
