/** One-line progress bar on a TTY stream; plain periodic lines when not a TTY (CI logs). */
export interface Progress {
  tick(n?: number): void;
  done(): void;
}

export function progressBar(stream: NodeJS.WriteStream, label: string, total: number): Progress {
  let count = 0;
  let lastPct = -1;
  let printed = -1;
  const started = Date.now();
  const render = (final: boolean) => {
    const pct = total > 0 ? Math.floor((count / total) * 100) : 100;
    if (!final && pct === lastPct) return;
    if (!stream.isTTY && !final && pct % 10 !== 0) return;
    if (final && printed === count && !stream.isTTY) return; // the 100 % line is already out
    lastPct = pct;
    printed = count;
    const width = 28;
    const filled = Math.round((pct / 100) * width);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${count}/${total} ${pct}% ${secs}s`;
    stream.write(stream.isTTY ? `\r${line}${final ? '\n' : ''}` : `${line}\n`);
  };
  return {
    tick(n = 1) {
      count += n;
      render(false);
    },
    done() {
      count = Math.min(count, total);
      render(true);
    },
  };
}

export function stderrProgress(label: string, total: number): Progress {
  return progressBar(process.stderr, label, total);
}
