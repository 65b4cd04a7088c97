// Reads the `Reason for import failure` cells of an error workbook, off the service's main
// thread and under a memory limit (see readImportFailureReasons in canary.ts): a workbook from
// the target is untrusted, and parsing a large one blocks for seconds and takes hundreds of MB.
// Plain JavaScript so that it runs in a worker whatever loader the parent uses. One workbook per
// message; the worker is kept for the next one (loading ExcelJS costs more than reading a canary's
// workbook), and ended by the parent after a read that ran out of time or memory.
import { parentPort } from 'node:worker_threads';
import ExcelJS from 'exceljs';

parentPort.on('message', (m) => void read(m));

async function read({ xlsx, header, maxReasons, maxChars }) {
  const cap = (text) => (text.length <= maxChars ? text : `${text.slice(0, maxChars)}… (${text.length} characters)`);
  try {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(xlsx));
    const ws = wb.worksheets[0];
    if (!ws) throw new Error('the error workbook has no sheet');
    let column;
    ws.getRow(1).eachCell((cell, col) => {
      if (String(cell.text).trim() === header) column = col;
    });
    if (column === undefined) throw new Error(`the error workbook has no "${header}" column`);
    const reasons = [];
    let rows = 0;
    ws.eachRow((row, rowNumber) => {
      if (rowNumber === 1) return;
      rows++;
      const text = String(row.getCell(column).text ?? '').trim();
      if (text !== '' && reasons.length < maxReasons) reasons.push(cap(text));
    });
    parentPort.postMessage({ ok: true, reasons, rows });
  } catch (err) {
    parentPort.postMessage({
      ok: false,
      error: String(err?.message ?? err)
        .split('\n')[0]
        .slice(0, 300),
    });
  }
}
