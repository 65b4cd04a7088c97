// GET /status: filters, free-text search and Spring-style paging over the uploads.
import { localDateTime, toJson, type Upload, type UploadJson } from './store.ts';
import { UPLOAD_JSON_FIELDS } from '../../src/model/upload.ts';

export interface StatusQuery {
  page: number;
  size: number;
  sort: { property: keyof UploadJson; direction: 'asc' | 'desc' }[];
  uploadedDate?: string;
  file?: string;
  user?: string;
  searchQuery?: string;
}

export class BadQueryError extends Error {}

const SORTABLE = new Set<string>(UPLOAD_JSON_FIELDS);

function one(v: unknown): string | undefined {
  if (Array.isArray(v)) return one(v[0]);
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function all(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(all);
  return typeof v === 'string' && v !== '' ? [v] : [];
}

function nonNegativeInt(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new BadQueryError(`${name} must be a non-negative integer`);
  return Number(v);
}

export function parseStatusQuery(q: Record<string, unknown>): StatusQuery {
  const size = nonNegativeInt(one(q.size), 20, 'size');
  const sort = all(q.sort).map((s) => {
    const [property = '', dir = 'asc'] = s.split(',');
    if (!SORTABLE.has(property)) throw new BadQueryError(`No property ${property} found for type ApplicationType`);
    const direction = dir.toLowerCase() === 'desc' ? 'desc' : 'asc';
    return { property: property as keyof UploadJson, direction } as const;
  });
  const uploadedDate = one(q.uploadedDate);
  if (uploadedDate !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(uploadedDate)) {
    throw new BadQueryError(`uploadedDate must be yyyy-MM-dd`);
  }
  return {
    page: nonNegativeInt(one(q.page), 0, 'page'),
    // Spring caps page sizes; 0 falls back to the default.
    size: size === 0 ? 20 : Math.min(size, 2000),
    sort: sort.length > 0 ? sort : [{ property: 'uploadedDate', direction: 'desc' }],
    uploadedDate,
    file: sanitised(one(q.file)),
    user: sanitised(one(q.user)),
    searchQuery: sanitised(one(q.searchQuery)),
  };
}

/**
 * Filter values as the older generic-upload releases clean them before their `LIKE '%…%'`
 * search: every character but letters, digits, whitespace and `, / - ( )` is dropped, so
 * `a.b_c.xlsx` searches for `abcxlsx` and finds nothing. (Newer releases escape for SQL instead;
 * the stand-in keeps the stricter behaviour, which a client must cope with.)
 */
export function sanitised(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const clean = value.replace(/[^\p{L}\p{N}\s,/\-()]/gu, '');
  return clean === '' ? undefined : clean;
}

const contains = (haystack: string, needle: string): boolean => haystack.toLowerCase().includes(needle.toLowerCase());

function matches(u: Upload, q: StatusQuery): boolean {
  if (q.uploadedDate || q.file || q.user) {
    if (q.uploadedDate && !localDateTime(u.uploadedDate).startsWith(q.uploadedDate)) return false;
    if (q.file && !contains(u.fileName, q.file)) return false;
    if (q.user && ![u.username, u.firstName, u.lastName].some((s) => contains(s, q.user!))) return false;
    return true;
  }
  if (q.searchQuery) {
    return [u.fileName, u.username, u.firstName, u.lastName, u.fileStatus].some((s) => contains(s, q.searchQuery!));
  }
  return true;
}

function compare(a: UploadJson, b: UploadJson, q: StatusQuery): number {
  for (const { property, direction } of q.sort) {
    const x = a[property];
    const y = b[property];
    let c: number;
    if (x === y) c = 0;
    else if (x === null)
      c = 1; // nulls last
    else if (y === null) c = -1;
    else c = x < y ? -1 : 1;
    if (c !== 0) return direction === 'asc' ? c : -c;
  }
  return b.logId - a.logId;
}

export interface StatusPage {
  content: UploadJson[];
  total: number;
  headers: { 'X-Total-Count': string; Link: string };
}

export function queryStatus(uploads: Upload[], q: StatusQuery): StatusPage {
  const found = uploads.filter((u) => matches(u, q)).map(toJson);
  found.sort((a, b) => compare(a, b, q));
  const total = found.length;
  const content = found.slice(q.page * q.size, q.page * q.size + q.size);
  return { content, total, headers: { 'X-Total-Count': String(total), Link: paginationLink(q.page, q.size, total) } };
}

/** The Link header in the style of JHipster's PaginationUtil, against generic-upload's base path. */
export function paginationLink(page: number, size: number, total: number): string {
  const base = '/api/generic-upload/status';
  const uri = (p: number): string => `${base}?page=${p}&size=${size}`;
  const totalPages = Math.ceil(total / size);
  const parts: string[] = [];
  if (page + 1 < totalPages) parts.push(`<${uri(page + 1)}>; rel="next"`);
  if (page > 0) parts.push(`<${uri(page - 1)}>; rel="prev"`);
  parts.push(`<${uri(totalPages > 0 ? totalPages - 1 : 0)}>; rel="last"`);
  parts.push(`<${uri(0)}>; rel="first"`);
  return parts.join(',');
}
