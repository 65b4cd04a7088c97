// The one contract every probe keeps, as blackbox_exporter's probers keep theirs: open what the
// journey needs, run it, explain a stop with what it can still see, give evidence, close. The
// runner owns deadlines, classification and evidence; it chooses a probe from the registry
// (probes/registry.ts) by name and knows none of them.
import type { Browser } from 'playwright-core';
import type { HeldToken } from '../model/diagnosis.ts';
import type { StepName } from '../model/result.ts';
import type { Stop } from '../model/stop.ts';
import type { Exchange } from '../target/http.ts';
import type { Journey } from './journey.ts';

/** What a run may share with others: the service's warm browser. */
export interface Shared {
  browser?: Browser;
}

export interface Probe {
  /** Opens what the journey needs (a browser context; nothing for plain HTTP). */
  open(j: Journey, shared: Shared): Promise<ProbeSession>;
}

/** What a probe can add to a failed run's evidence. */
export interface ProbeEvidence {
  screenshot?: Buffer;
  /** A trace archive as recorded (the evidence store scrubs it). */
  tracePath?: string;
  /** What could not be collected, and why. */
  problems: string[];
}

/** One run's use of a probe. The runner bounds every call after a stop in time. */
export interface ProbeSession {
  /** Runs the journey's steps to the end; a failure ends it with a JourneyStop. */
  run(): Promise<void>;
  /** Makes a deadline more precise with what the probe can still see (e.g. a login form). */
  explain(stop: Stop, step: StepName | undefined): Promise<Stop>;
  /** Holds still for the evidence (a page stops loading and running scripts). */
  freeze(): Promise<void>;
  /** Collects evidence of a failed run; a trace is written into `dir`. */
  evidence(dir: string): Promise<ProbeEvidence>;
  /** Ends recording without keeping it (a run that did not fail). */
  discard(): Promise<void>;
  /** Closes what open() opened; rejects when it cannot within its bound. */
  close(): Promise<void>;
  /** Gives up on what would not close (a browser context: its browser is closed). */
  abandon(): Promise<void>;
  /**
   * The test user's access token the probe holds, for a failed run's follow-up checks
   * (src/run/diagnose.ts): renewed when about to expire, through `ex` (bounded). Absent or
   * undefined: none held.
   */
  userToken?(ex: Exchange): Promise<HeldToken | undefined>;
}

/** A session for a probe that holds nothing open: it only runs its journey. */
export function plainSession(run: () => Promise<void>): ProbeSession {
  return {
    run,
    explain: async (stop) => stop,
    freeze: async () => {},
    evidence: async () => ({ problems: [] }),
    discard: async () => {},
    close: async () => {},
    abandon: async () => {},
  };
}
