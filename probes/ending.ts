// The last step both journeys share: the canary's ending against its healthy one.
import { readImportFailureReasons } from '../src/canary.ts';
import type { Journey } from '../src/journey/journey.ts';
import { endingFailure } from '../src/model/classify.ts';
import { JourneyStop } from '../src/model/stop.ts';
import { capText } from '../src/model/text.ts';
import { FILE_STATUSES, isFileStatus } from '../src/model/upload.ts';

/** Reads the error workbook's reason texts; an unreadable workbook is a wrong ending, not a probe bug. */
export async function noteReasons(j: Journey, workbook: Buffer): Promise<void> {
  const limits = j.target.limits;
  if (workbook.length > limits.errorWorkbook) {
    throw new JourneyStop({
      kind: 'bad_answer',
      side: 'app',
      what: `the error workbook is ${workbook.length} bytes, over its ${limits.errorWorkbook}-byte limit: refused unread`,
    });
  }
  try {
    j.seen.reasonTexts = await readImportFailureReasons(workbook, { maxBytes: limits.errorWorkbook, maxChars: limits.text });
    j.log.info('error workbook read', { reasons: j.seen.reasonTexts });
  } catch (err) {
    throw new JourneyStop({
      kind: 'wrong_ending',
      reason: 'import_wrong_result',
      what: `the error workbook cannot be read: ${(err as Error).message}`,
    });
  }
}

/** Whether the error workbook must be read: the canary's healthy ending has one row in error. */
export function hasErrorWorkbook(j: Journey): boolean {
  const u = j.seen.upload;
  return u?.status === 'COMPLETED' && (u.numberOfErrors ?? 0) >= 1;
}

/** Fails the step, with the reason judged here once, unless the ending seen is the healthy one. */
export function checkEnding(j: Journey): void {
  const wrong = endingFailure({ ...j.seen, expectedReason: j.canary.expectedReason });
  if (wrong) throw new JourneyStop({ kind: 'wrong_ending', reason: wrong.reason, what: wrong.message });
  if (!j.seen.reasonTexts) {
    const what = `the canary ended ${j.seen.upload?.status} without an error workbook to read`;
    throw new JourneyStop({ kind: 'wrong_ending', reason: 'import_wrong_result', what });
  }
}

/** A status outside the API's enum fails the run at once, naming it (never waited on as "started"). */
export function expectKnownStatus(status: string, where: string): void {
  if (isFileStatus(status)) return;
  throw new JourneyStop({
    kind: 'bad_answer',
    side: 'app',
    what: `${where} "${capText(status, 40)}", which is none of ${FILE_STATUSES.join(', ')}`,
  });
}
