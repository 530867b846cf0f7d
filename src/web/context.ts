import type { Api, Session } from './api.ts';
import type { Realtime } from './realtime.ts';

/** What every view receives: no globals, so each view can be mounted on its own. */
export interface ViewContext {
  api: Api;
  session: Session;
  realtime: Realtime;
}

/** A mounted view; the returned function unsubscribes its listeners and timers. */
export type MountView = (root: HTMLElement, ctx: ViewContext) => () => void;
