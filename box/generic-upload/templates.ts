// Upload templates, detected from the header set of the first sheet. The first matching rule
// wins, in this order (as generic-upload's file validator does).
export type FileType = 'PLACEMENTS' | 'PEOPLE_UPDATE' | 'PEOPLE';

const RULES: { header: string; type: FileType }[] = [
  { header: 'Placement Type*', type: 'PLACEMENTS' },
  { header: 'TIS_Person_ID*', type: 'PEOPLE_UPDATE' },
  { header: 'Email Address', type: 'PEOPLE' },
];

/** Templates this stand-in can import; others are refused as unrecognised. */
const IMPORTABLE: ReadonlySet<FileType> = new Set(['PLACEMENTS', 'PEOPLE_UPDATE']);

export function detectTemplate(headers: string[]): FileType | undefined {
  const set = new Set(headers.map((h) => h.trim()));
  const type = RULES.find((r) => set.has(r.header))?.type;
  return type && IMPORTABLE.has(type) ? type : undefined;
}

/** A trailing `*` marks a mandatory column. */
export function isMandatory(header: string): boolean {
  return header.trim().endsWith('*');
}
