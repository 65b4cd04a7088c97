// The file the queue-blocked fault puts at the head of the queue: an older placements upload
// whose TCS call fails with an HTTP error that the placements importer does not handle, so
// the file goes back to PENDING every second and everything behind it waits.
import ExcelJS from 'exceljs';
import type { Upload, UploadStore } from './generic-upload/store.ts';

export const BLOCKER_FILE_NAME = 'placements-november-rotation.xlsx';

export async function blockerWorkbook(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Placements');
  ws.addRow(['TIS_Person_ID*', 'Placement Type*', 'Post Number*']);
  ws.addRow([1001, 'In Post', 'EOE/RGT00/021/FY1/010']);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export async function insertBlocker(store: UploadStore): Promise<Upload> {
  const earliest = store.earliestUploadedDate()?.getTime() ?? Date.now();
  const uploadedDate = new Date(Math.min(earliest, Date.now()) - 60_000);
  return store.add({
    fileName: BLOCKER_FILE_NAME,
    fileType: 'PLACEMENTS',
    uploadedDate,
    fileStatus: 'PENDING',
    username: 'placements.admin',
    firstName: 'Pat',
    lastName: 'Placements',
    content: await blockerWorkbook(),
    rowErrors: new Map(),
  });
}
