// RunResult as a zod schema, for reading results back from outside the process (the run
// history on disk may hold a line cut by a crash, a record of another version, or garbage).
// The type checks at the bottom keep it and the RunResult interface the same shape.
import { z } from 'zod';
import { DIAGNOSES } from './diagnosis.ts';
import { FAILURE_REASONS } from './failures.ts';
import { UPLOAD_OUTCOMES } from './upload.ts';
import {
  DEPTHS,
  PROBE_NAMES,
  STEP_NAMES,
  type CanaryOutcome,
  type HttpEvent,
  type HttpSummary,
  type RunResult,
  type StatusClass,
  type StepResult,
} from './result.ts';

// A tuple for z.enum; the checks below tie it to StatusClass.
const STATUS_CLASS_NAMES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'] as const;

export const stepResultSchema = z.object({
  name: z.enum(STEP_NAMES),
  ok: z.boolean(),
  startedAt: z.string(),
  durationSeconds: z.number(),
  error: z.string().optional(),
});

export const httpEventSchema = z.object({
  method: z.string(),
  url: z.string(),
  status: z.number(),
  durationMs: z.number(),
  at: z.string(),
  failure: z.string().optional(),
});

export const httpSummarySchema = z.object({
  requests: z.number(),
  byClass: z.record(z.enum(STATUS_CLASS_NAMES), z.number()),
  firstBad: httpEventSchema.optional(),
});

export const canaryOutcomeSchema = z.object({
  fileName: z.string(),
  logId: z.string().optional(),
  status: z.string().optional(),
  numberOfErrors: z.number().optional(),
  numberImported: z.number().optional(),
  reasonText: z.string().optional(),
  queueWaitSeconds: z.number().optional(),
  importSeconds: z.number().optional(),
});

/** Unknown fields are dropped (a record written by a newer version still reads). */
export const recentUploadsSchema = z.object({
  listed: z.number(),
  byOutcome: z.record(z.enum(UPLOAD_OUTCOMES), z.number()),
  ended: z.array(z.object({ id: z.string(), outcome: z.enum(UPLOAD_OUTCOMES) })),
});

export const runResultSchema = z.object({
  id: z.string().optional(),
  probe: z.enum(PROBE_NAMES),
  // Records written before runs had depths were all full runs.
  depth: z.enum(DEPTHS).default('full'),
  target: z.string(),
  ok: z.boolean(),
  cancelled: z.boolean().optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationSeconds: z.number(),
  reason: z.enum(FAILURE_REASONS).optional(),
  failedStep: z.enum(STEP_NAMES).optional(),
  message: z.string(),
  likelyCause: z.string().optional(),
  // A diagnosis a newer version added reads as none, rather than losing the whole record.
  diagnosis: z.enum(DIAGNOSES).optional().catch(undefined),
  diagnosisDetail: z.string().optional(),
  steps: z.array(stepResultSchema),
  http: httpSummarySchema,
  canary: canaryOutcomeSchema.optional(),
  recentUploads: recentUploadsSchema.optional(),
  evidenceDir: z.string().optional(),
  evidenceError: z.string().optional(),
});

// Compile-time only: each schema's output and its interface are assignable both ways and have
// the same fields (mutual assignability alone would let an optional field go missing).
type Same<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [keyof A] extends [keyof B]
      ? [keyof B] extends [keyof A]
        ? true
        : false
      : false
    : false
  : false;
type Check<T extends true> = T;
export type RunResultSchemaChecks = [
  Check<Same<z.infer<typeof runResultSchema>, RunResult>>,
  Check<Same<z.infer<typeof stepResultSchema>, StepResult>>,
  Check<Same<z.infer<typeof httpEventSchema>, HttpEvent>>,
  Check<Same<z.infer<typeof httpSummarySchema>, HttpSummary>>,
  Check<Same<z.infer<typeof canaryOutcomeSchema>, CanaryOutcome>>,
  Check<Same<(typeof STATUS_CLASS_NAMES)[number], StatusClass>>,
];
