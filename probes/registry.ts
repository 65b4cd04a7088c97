// The probes by name, as blackbox_exporter's Probers map: the runner looks a probe up here and
// knows none of them. A new probe is one new file and one line here (and its name in
// PROBE_NAMES, which the configuration and the metrics' pre-created series are checked against).
import type { Probe } from '../src/journey/probe.ts';
import type { ProbeName } from '../src/model/result.ts';
import { apiProbe } from './api.ts';
import { browserProbe } from './browser.ts';

export const PROBES: Record<ProbeName, Probe> = {
  browser: browserProbe,
  api: apiProbe,
};
