/**
 * Parent-death detection for supervised worker processes: a worker whose
 * supervisor died (even by SIGKILL, which it cannot forward) must not live on
 * as an orphan taking jobs beside the workers of the next `maskwatch start`.
 *
 * Two signals, whichever comes first:
 *   - the IPC channel to the parent closes ('disconnect'), when the process was
 *     spawned with one (worker-pool does);
 *   - the parent pid changes (the orphan was re-parented to init or a
 *     subreaper), polled every `intervalMs` — covers supervisors without IPC.
 */
export interface ParentWatchOptions {
  /** Called once, with what was noticed. */
  onParentExit(reason: 'ipc-disconnect' | 'reparented'): void;
  /** Poll the parent pid (default: true when there is no IPC channel). */
  pollPpid?: boolean;
  intervalMs?: number;
  /** The process to watch (tests pass a fake). */
  proc?: Pick<NodeJS.Process, 'ppid' | 'connected' | 'once' | 'off'> & { send?: unknown };
}

/** Starts watching; returns a function that stops it (and lets the IPC channel go). */
export function watchParent(opts: ParentWatchOptions): () => void {
  const proc = opts.proc ?? process;
  const hasIpc = typeof proc.send === 'function' && proc.connected;
  let fired = false;
  const fire = (reason: 'ipc-disconnect' | 'reparented') => {
    if (fired) return;
    fired = true;
    stop();
    opts.onParentExit(reason);
  };
  const onDisconnect = () => fire('ipc-disconnect');
  if (hasIpc) proc.once('disconnect', onDisconnect);
  let timer: NodeJS.Timeout | undefined;
  if (opts.pollPpid ?? !hasIpc) {
    const initial = proc.ppid;
    timer = setInterval(() => {
      if (proc.ppid !== initial) fire('reparented');
    }, opts.intervalMs ?? 1000);
    timer.unref(); // never what keeps a finished process alive
  }
  function stop() {
    if (timer) clearInterval(timer);
    timer = undefined;
    // A 'disconnect' listener keeps the IPC channel (and so the process) alive.
    if (hasIpc) proc.off('disconnect', onDisconnect);
  }
  return stop;
}
