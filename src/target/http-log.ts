// Records every HTTP exchange with the target (both probes), tagged Keycloak or app by URL.
// Only method, URL without query, status and timing: headers and bodies may hold secrets.
import { isBadEvent, type ObservedHttp, type Side } from '../model/observation.ts';
import { STATUS_CLASSES, type HttpSummary, type StatusClass, type StepName } from '../model/result.ts';
import { stripQuery } from '../model/url.ts';

export interface TargetOrigins {
  /** Keycloak base URL (may share the app's origin under a path such as /auth). */
  keycloak: string;
  /** The app origin (and API base when it is absolute). */
  app: string[];
}

/** Events kept per run, and how many of the first are always kept. */
const MAX_EVENTS = 2_000;
const HEAD_KEPT = 500;

export class HttpLog {
  readonly events: ObservedHttp[] = [];
  private readonly open = new Map<number, { event: ObservedHttp; startMs: number }>();
  private nextId = 1;
  private readonly badListeners: Array<(e: ObservedHttp) => void> = [];

  constructor(
    private readonly origins: TargetOrigins,
    private readonly currentStep: () => StepName | undefined = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keycloak, app, or undefined for traffic that is not the target's (fonts, CDNs...). */
  sideOf(url: string): Side | undefined {
    const u = stripQuery(url);
    if (u.startsWith(trimSlash(this.origins.keycloak))) return 'keycloak';
    for (const a of this.origins.app) if (u.startsWith(trimSlash(a))) return 'app';
    return undefined;
  }

  /** Starts an exchange; returns its id, or undefined when the URL is not the target's. */
  start(method: string, url: string): number | undefined {
    const side = this.sideOf(url);
    if (!side) return undefined;
    const id = this.nextId++;
    const startMs = this.now();
    const event: ObservedHttp = { method, url: stripQuery(url), status: 0, durationMs: 0, at: new Date(startMs).toISOString(), side };
    const step = this.currentStep();
    if (step) event.step = step;
    this.open.set(id, { event, startMs });
    return id;
  }

  /** Ends an exchange with its status (0 and a failure text when no answer came). */
  finish(id: number | undefined, status: number, failure?: string): ObservedHttp | undefined {
    if (id === undefined) return undefined;
    const o = this.open.get(id);
    if (!o) return undefined;
    this.open.delete(id);
    o.event.status = status;
    o.event.durationMs = this.now() - o.startMs;
    if (failure) o.event.failure = failure;
    this.keep(o.event);
    if (isBadEvent(o.event)) for (const l of this.badListeners) l(o.event);
    return o.event;
  }

  /**
   * A page can send requests without end (a script in a loop): the first HEAD_KEPT events (where
   * the first bad answer usually is) and the latest ones are kept, those between counted only.
   */
  private keep(e: ObservedHttp): void {
    this.events.push(e);
    if (this.events.length > MAX_EVENTS) {
      const dropped = this.events.splice(HEAD_KEPT, 1)[0]!;
      this.dropped[statusClass(dropped.status)]++;
      this.droppedCount++;
    }
  }

  private readonly dropped = Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])) as Record<StatusClass, number>;
  private droppedCount = 0;

  /** Called for every response that by itself fails a run. */
  onBad(listener: (e: ObservedHttp) => void): void {
    this.badListeners.push(listener);
  }

  /** Requests still open, with their age so far as duration. */
  pending(): ObservedHttp[] {
    const t = this.now();
    return [...this.open.values()].map(({ event, startMs }) => ({ ...event, durationMs: t - startMs, failure: 'no answer yet' }));
  }

  /** The last n events, including the still-open ones, oldest first. */
  last(n: number): ObservedHttp[] {
    const all = [...this.events, ...this.pending()].sort((a, b) => a.at.localeCompare(b.at));
    return all.slice(-n);
  }

  summary(): HttpSummary {
    const byClass = Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])) as Record<StatusClass, number>;
    for (const e of this.events) byClass[statusClass(e.status)]++;
    for (const c of STATUS_CLASSES) byClass[c] += this.dropped[c];
    const firstBad = this.events.find(isBadEvent);
    const out: HttpSummary = { requests: this.events.length + this.droppedCount, byClass };
    if (firstBad) out.firstBad = withoutSide(firstBad);
    return out;
  }
}

export function statusClass(status: number): StatusClass {
  if (status >= 100 && status < 600) return `${Math.floor(status / 100)}xx` as StatusClass;
  return 'none';
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}

function withoutSide(e: ObservedHttp) {
  const { side: _side, step: _step, ...rest } = e;
  return rest;
}
