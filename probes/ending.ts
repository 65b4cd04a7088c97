// The last step both journeys share: the canary's ending against its healthy one.
import { readImportFailureReasons } from '../src/canary.ts';
import { endingFailure } from '../src/run/classify.ts';
import type { Journey } from '../src/run/journey.ts';
import { JourneyStop } from '../src/run/steps.ts';
import { capText } from '../src/run/text.ts';
import { FILE_STATUSES } from '../src/target/generic-upload.ts';

/** Reads the error workbook's reason texts; an unreadable workbook is a wrong ending, not a probe bug. */
export async function noteReasons(j: Journey, workbook: Buffer): Promise<void> {
  const limits = j.target.limits;
  if (workbook.length > limits.errorWorkbook) {
    throw new JourneyStop({ kind: 'bad_answer', side: 'app', what: `the error workbook is ${workbook.length} bytes, over its ${limits.errorWorkbook}-byte limit: refused unread` });
  }
  try {
    j.noted.reasonTexts = await readImportFailureReasons(workbook, { maxBytes: limits.errorWorkbook, maxChars: limits.text });
    j.log.info('error workbook read', { reasons: j.noted.reasonTexts });
  } catch (err) {
    throw new JourneyStop({ kind: 'wrong_ending', what: `the error workbook cannot be read: ${(err as Error).message}` });
  }
}

/** Whether the error workbook must be read: the canary's healthy ending has one row in error. */
export function hasErrorWorkbook(j: Journey): boolean {
  const u = j.noted.upload;
  return u?.status === 'COMPLETED' && (u.numberOfErrors ?? 0) >= 1;
}

/** Fails the step unless the ending seen so far is the healthy one. */
export function checkEnding(j: Journey): void {
  const wrong = endingFailure({ upload: j.noted.upload, reasonTexts: j.noted.reasonTexts, expectedReason: j.canary.expectedReason });
  if (wrong) throw new JourneyStop({ kind: 'wrong_ending', what: wrong.message });
  if (!j.noted.reasonTexts) throw new JourneyStop({ kind: 'wrong_ending', what: `the canary ended ${j.noted.upload?.status} without an error workbook to read` });
}

/** A status outside the API's enum fails the run at once, naming it (never waited on as "started"). */
export function expectKnownStatus(status: string, where: string): void {
  if ((FILE_STATUSES as readonly string[]).includes(status)) return;
  throw new JourneyStop({ kind: 'bad_answer', side: 'app', what: `${where} "${capText(status, 40)}", which is none of ${FILE_STATUSES.join(', ')}` });
}
