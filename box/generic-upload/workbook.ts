// Reading uploaded workbooks and writing the error workbook, with exceljs. Only the first
// sheet counts: row 1 is the header, data from row 2, blank rows skipped, columns by header.
import ExcelJS from 'exceljs';

export type CellValue = string | number | boolean | Date | null;

export interface SheetRow {
  /** 1-based spreadsheet row number. */
  rowNumber: number;
  /** Cell values by header text. */
  cells: Map<string, CellValue>;
}

export interface Sheet {
  headers: string[];
  rows: SheetRow[];
}

export const REASON_HEADER = 'Reason for import failure';

export async function loadWorkbook(content: Buffer): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(content as unknown as ArrayBuffer);
  return wb;
}

function firstSheet(wb: ExcelJS.Workbook): ExcelJS.Worksheet {
  const ws = wb.worksheets[0];
  if (!ws) throw new Error('the workbook has no sheet');
  return ws;
}

/** A cell's value reduced to what an importer cares about (formulas by their result). */
export function cellValue(cell: ExcelJS.Cell): CellValue {
  const v = cell.value;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((r) => r.text).join('');
    if ('text' in v && typeof v.text === 'string') return v.text;
    if ('result' in v) {
      const r = v.result;
      if (r === undefined || r === null) return null;
      if (typeof r === 'object' && !(r instanceof Date)) return null;
      return r;
    }
    if ('error' in v) return String(v.error);
  }
  return String(v);
}

function isBlank(v: CellValue): boolean {
  return v === null || (typeof v === 'string' && v.trim() === '');
}

export async function readFirstSheet(content: Buffer): Promise<Sheet> {
  const ws = firstSheet(await loadWorkbook(content));
  const headerRow = ws.getRow(1);
  const columns: { col: number; header: string }[] = [];
  headerRow.eachCell({ includeEmpty: false }, (cell, col) => {
    const text = cellValue(cell);
    if (!isBlank(text)) columns.push({ col, header: String(text).trim() });
  });
  const rows: SheetRow[] = [];
  ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    if (rowNumber === 1) return;
    const cells = new Map<string, CellValue>();
    let blank = true;
    for (const { col, header } of columns) {
      const v = cellValue(row.getCell(col));
      if (!isBlank(v)) blank = false;
      cells.set(header, v);
    }
    if (!blank) rows.push({ rowNumber, cells });
  });
  return { headers: columns.map((c) => c.header), rows };
}

/**
 * The uploaded first sheet with only the rows that had errors, and a `Reason for import
 * failure` column holding each row's error text.
 */
export async function buildErrorWorkbook(content: Buffer, rowErrors: Map<number, string>): Promise<Buffer> {
  const source = firstSheet(await loadWorkbook(content));
  const out = new ExcelJS.Workbook();
  const sheet = out.addWorksheet(source.name || 'Sheet1');
  const width = source.getRow(1).cellCount;

  const copyRow = (from: ExcelJS.Row, extra: string): void => {
    const values: ExcelJS.CellValue[] = [];
    for (let c = 1; c <= width; c++) values.push(from.getCell(c).value);
    values.push(extra);
    sheet.addRow(values);
  };
  copyRow(source.getRow(1), REASON_HEADER);
  for (const rowNumber of [...rowErrors.keys()].sort((a, b) => a - b)) {
    copyRow(source.getRow(rowNumber), rowErrors.get(rowNumber) ?? '');
  }
  return Buffer.from(await out.xlsx.writeBuffer());
}
