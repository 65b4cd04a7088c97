import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { buildCanaryWorkbook, canaryFileName, canarySearchTerm, readImportFailureReasons } from '../../src/canary.ts';

describe('canaryFileName', () => {
  it('says what it is, for which target, at which UTC millisecond', () => {
    const at = new Date('2026-11-25T10:15:00.123Z');
    expect(canaryFileName('synthetic-probe', 'box', at)).toBe('synthetic-probe-box-20261125T101500123Z.xlsx');
  });

  it('differs between runs a millisecond apart', () => {
    const a = canaryFileName('p', 't', new Date(1_790_000_000_000));
    const b = canaryFileName('p', 't', new Date(1_790_000_000_001));
    expect(a).not.toBe(b);
  });
});

describe('canary names and search', () => {
  it('has no "." or "_" before the extension, whatever the target is called', () => {
    const name = canaryFileName('synthetic-probe', 'prod_eu', new Date(Date.UTC(2026, 10, 25, 10, 15, 0, 123)));
    expect(name).toBe('synthetic-probe-prod-eu-20261125T101500123Z.xlsx');
    expect(name.replace(/\.xlsx$/, '')).toMatch(/^[A-Za-z0-9-]+$/);
  });

  it('searches by the name without its extension: letters, digits and hyphens, unique per run', () => {
    const name = canaryFileName('synthetic-probe', 'box', new Date(Date.UTC(2026, 10, 25, 10, 15, 0, 123)));
    expect(canarySearchTerm(name)).toBe('synthetic-probe-box-20261125T101500123Z');
    // What an older release's filter makes of it: the same.
    expect(canarySearchTerm(name).replace(/[^\p{L}\p{N}\s,/\-()]/gu, '')).toBe(canarySearchTerm(name));
  });
});

describe('buildCanaryWorkbook', () => {
  it('has the people-update header and one numeric id row on the first sheet', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await buildCanaryWorkbook()) as unknown as ArrayBuffer);
    const ws = wb.worksheets[0]!;
    expect(ws.getRow(1).getCell(1).value).toBe('TIS_Person_ID*');
    expect(ws.getRow(2).getCell(1).value).toBe(999999999);
    expect(typeof ws.getRow(2).getCell(1).value).toBe('number');
    expect(ws.actualRowCount).toBe(2);
  });

  it('uses the given person id', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await buildCanaryWorkbook(123456)) as unknown as ArrayBuffer);
    expect(wb.worksheets[0]!.getRow(2).getCell(1).value).toBe(123456);
  });

  it('refuses an id that is not a positive integer', async () => {
    await expect(buildCanaryWorkbook(-1)).rejects.toThrow(/positive integer/);
    await expect(buildCanaryWorkbook(1.5)).rejects.toThrow(/positive integer/);
  });
});

describe('readImportFailureReasons', () => {
  async function errorWorkbook(rows: (string | number | null)[][]): Promise<Buffer> {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('Sheet1');
    rows.forEach((r) => ws.addRow(r));
    return Buffer.from(await wb.xlsx.writeBuffer());
  }

  it('reads the reason column wherever it is', async () => {
    const xlsx = await errorWorkbook([
      ['Surname', 'TIS_Person_ID*', 'Reason for import failure'],
      ['Smith', 999999999, 'Person with id 999999999 does not exist'],
      ['Jones', 5, '500 Internal Server Error'],
    ]);
    expect(await readImportFailureReasons(xlsx)).toEqual(['Person with id 999999999 does not exist', '500 Internal Server Error']);
  });

  it('gives no reasons for a workbook with only the header', async () => {
    expect(await readImportFailureReasons(await errorWorkbook([['TIS_Person_ID*', 'Reason for import failure']]))).toEqual([]);
  });

  it('fails clearly when the reason column is missing', async () => {
    await expect(readImportFailureReasons(await errorWorkbook([['TIS_Person_ID*'], [1]]))).rejects.toThrow(/Reason for import failure/);
  });

  it('refuses a workbook over its size limit before reading it', async () => {
    const xlsx = await errorWorkbook([
      ['TIS_Person_ID*', 'Reason for import failure'],
      [1, 'x'],
    ]);
    await expect(readImportFailureReasons(xlsx, { maxBytes: xlsx.length - 1 })).rejects.toThrow(/over the \d+-byte limit/);
  });

  it('caps each reason text and how many are kept, saying how long a cut text was', async () => {
    const rows: (string | number)[][] = [['TIS_Person_ID*', 'Reason for import failure']];
    for (let i = 0; i < 30; i++) rows.push([i, i === 0 ? 'y'.repeat(100_000) : `reason ${i}`]);
    const reasons = await readImportFailureReasons(await errorWorkbook(rows), { maxChars: 50, maxReasons: 5 });
    expect(reasons).toHaveLength(5);
    expect(reasons[0]).toBe(`${'y'.repeat(50)}… (100000 characters)`);
  });

  it('fails clearly on bytes that are not a workbook, and within its time limit', async () => {
    await expect(readImportFailureReasons(Buffer.from('<html>not a workbook</html>'))).rejects.toThrow();
    const big = await errorWorkbook([
      ['TIS_Person_ID*', 'Reason for import failure'],
      ...Array.from({ length: 20_000 }, (_, i) => [i, `reason ${i}`]),
    ]);
    await expect(readImportFailureReasons(big, { maxBytes: 10_000_000, timeoutMs: 1 })).rejects.toThrow(/longer than 1 ms/);
  });
});
