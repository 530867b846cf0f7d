/** Counters and a latency window of one camera agent, reported periodically. */

/** Nearest-rank percentile of already sorted values (p in [0, 100]); null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export interface AgentCounters {
  /** Frames the server accepted (202). */
  sent: number;
  /** Frames written to the spool because the server could not take them. */
  spooled: number;
  /** Spooled frames evicted (oldest first) because the spool was full. */
  dropped: number;
  /** Frames the server refused as bad (4xx): not retried. */
  rejected: number;
  /** Send attempts of spooled frames. */
  retried: number;
  /** Frames not analysed because the previous analysis was still running (--analyze on a slow host). */
  skipped: number;
}

export class AgentStats {
  readonly counters: AgentCounters = { sent: 0, spooled: 0, dropped: 0, rejected: 0, retried: 0, skipped: 0 };
  private latencies: number[] = [];
  private analysis = { frames: 0, ms: 0 };

  /** On-site analysis time of one frame (--analyze). */
  recordAnalysis(ms: number): void {
    this.analysis.frames += 1;
    this.analysis.ms += ms;
  }

  recordLatency(ms: number): void {
    // Bounded: at most the last 10k in a reporting window.
    if (this.latencies.length >= 10_000) this.latencies.shift();
    this.latencies.push(ms);
  }

  /** Snapshot for a stats line; the latency window restarts. */
  report(spoolSize: number) {
    const sorted = this.latencies.sort((a, b) => a - b);
    const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
    const line = {
      ...this.counters,
      spoolSize,
      latencyMs: { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), samples: sorted.length },
      ...(this.analysis.frames > 0 ? { analysedFrames: this.analysis.frames, analyzeMsMean: round(this.analysis.ms / this.analysis.frames) } : {}),
    };
    this.latencies = [];
    this.analysis = { frames: 0, ms: 0 };
    return line;
  }
}
