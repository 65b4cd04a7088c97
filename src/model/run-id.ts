// A run's stable id, for its page (/runs/:id) and for links from alerts: the start time (UTC,
// to the second) and six random hex digits, e.g. `20261125T101500Z-3f9a2b`. Nothing else goes
// into it: no target name, no user, no secret. Runs recorded before ids existed (old history
// lines) get one derived from what identifies them, the same at every start.
import { createHash, randomBytes } from 'node:crypto';

/** What an id looks like (new and derived alike); anything else is not taken as an id. */
export const RUN_ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

function stamp(ms: number): string {
  const d = new Date(Number.isFinite(ms) ? ms : 0);
  return d.toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
}

/** A new id for a run that started at `startedMs`. */
export function newRunId(startedMs: number, random: () => Buffer = () => randomBytes(3)): string {
  return `${stamp(startedMs)}-${random().toString('hex').slice(0, 6).padEnd(6, '0')}`;
}

/** The id of a recorded run: its own when it has a well-formed one, else one derived from it. */
export function runIdOf(r: { id?: string; probe: string; depth: string; target: string; startedAt: string; finishedAt: string }): string {
  if (r.id && RUN_ID_PATTERN.test(r.id)) return r.id;
  const hash = createHash('sha256')
    .update(JSON.stringify([r.probe, r.depth, r.target, r.startedAt, r.finishedAt]))
    .digest('hex');
  return `${stamp(Date.parse(r.startedAt))}-${hash.slice(0, 6)}`;
}
