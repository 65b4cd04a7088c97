// The canary: a harmless people-update workbook (header `TIS_Person_ID*`, one row with a
// numeric person id that does not exist). It travels the whole import chain and writes nothing.
import ExcelJS from 'exceljs';

export const CANARY_HEADER = 'TIS_Person_ID*';
export const REASON_HEADER = 'Reason for import failure';
export const DEFAULT_CANARY_PERSON_ID = 999999999;

/** `${prefix}-${target}-20261125T101500123Z.xlsx`: UTC to the millisecond, unique per run. */
export function canaryFileName(prefix: string, target: string, at: Date = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${prefix}-${target}-${stamp}.xlsx`;
}

export async function buildCanaryWorkbook(personId: number = DEFAULT_CANARY_PERSON_ID): Promise<Buffer> {
  if (!Number.isSafeInteger(personId) || personId <= 0) throw new Error(`canary person id must be a positive integer, got ${personId}`);
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('People');
  ws.addRow([CANARY_HEADER]);
  // Numeric on purpose: a text id makes the import end UNEXPECTED_ERROR.
  ws.addRow([personId]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** The `Reason for import failure` cells of an error workbook's first sheet, in row order. */
export async function readImportFailureReasons(xlsx: Buffer): Promise<string[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(xlsx as unknown as ArrayBuffer);
  const ws = wb.worksheets[0];
  if (!ws) throw new Error('the error workbook has no sheet');
  let column: number | undefined;
  ws.getRow(1).eachCell((cell, col) => {
    if (String(cell.text).trim() === REASON_HEADER) column = col;
  });
  if (column === undefined) throw new Error(`the error workbook has no "${REASON_HEADER}" column`);
  const reasons: string[] = [];
  ws.eachRow((row, rowNumber) => {
    if (rowNumber === 1) return;
    const text = row.getCell(column!).text.trim();
    if (text !== '') reasons.push(text);
  });
  return reasons;
}
