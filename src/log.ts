// Structured JSON logs (pino). Anything that could carry a secret is censored by key here;
// free text is scrubbed by src/redact.ts before it reaches a log line. On a terminal the same
// records can be printed for people instead (`pretty`): one readable line per run, the
// service's own events and errors; everything else only in the JSON lines.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  'cookie',
  '*.cookie',
];

export function createLogger(
  opts: { level?: string; name?: string; destination?: NodeJS.WritableStream; format?: LogFormat } = {},
): Logger {
  const destination = opts.destination ?? process.stderr;
  const pretty = resolveLogFormat(opts.format ?? 'json', destination) === 'pretty';
  return pino(
    {
      name: opts.name ?? 'bulk-upload-probe',
      level: opts.level ?? (process.env.LOG_LEVEL || 'info'),
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (pretty ? prettyStream(destination, { colour: isTty(destination) && !process.env.NO_COLOR }) : destination) as pino.DestinationStream,
  );
}

/** `pretty`: readable lines; `json`: pino's JSON lines; `auto`: pretty on a terminal, JSON otherwise. */
export const LOG_FORMATS = ['pretty', 'json', 'auto'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function resolveLogFormat(format: LogFormat, stream: NodeJS.WritableStream): 'pretty' | 'json' {
  if (format !== 'auto') return format;
  return isTty(stream) ? 'pretty' : 'json';
}

function isTty(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

export interface PrettyOptions {
  /** ANSI colours for verdicts and levels. */
  colour?: boolean;
  /** How a record's time is shown (default: local HH:MM:SS). */
  time?: (at: Date) => string;
}

const COLOURS = { green: 32, red: 31, yellow: 33, grey: 90 } as const;

/**
 * One readable line for a pino record, or undefined to leave it out. `run_finished` records
 * become the run's line (time, target, probe, depth, verdict, reason, duration, message, page);
 * other records with an `event`, and errors, their message; the runner's step-by-step lines
 * are left to the JSON format. Control characters from the target's texts are replaced, so
 * that nothing the target sends can steer the terminal.
 */
export function formatLogRecord(rec: Record<string, unknown>, opts: PrettyOptions = {}): string | undefined {
  const paint = (colour: keyof typeof COLOURS, text: string) => (opts.colour ? `\u001b[${COLOURS[colour]}m${text}\u001b[0m` : text);
  const at = typeof rec.time === 'string' || typeof rec.time === 'number' ? new Date(rec.time) : new Date();
  const time = (opts.time ?? localTime)(Number.isNaN(at.getTime()) ? new Date() : at);
  const level = typeof rec.level === 'number' ? rec.level : 30;
  if (rec.event === 'run_finished') {
    const result = String(rec.result ?? (rec.ok ? 'success' : 'failure'));
    const verdict =
      result === 'success'
        ? paint('green', 'ok'.padEnd(22))
        : result === 'cancelled'
          ? paint('grey', 'cancelled'.padEnd(22))
          : paint('red', `FAIL ${clean(rec.reason ?? 'failure')}`.padEnd(22));
    const seconds = typeof rec.durationSeconds === 'number' ? `${rec.durationSeconds.toFixed(1)} s` : '-';
    const parts = [
      time,
      clean(rec.target).padEnd(10),
      clean(rec.probe).padEnd(7),
      clean(rec.depth).padEnd(5),
      verdict,
      seconds.padStart(7),
    ];
    if (result !== 'success' && rec.message) parts.push(clean(rec.message, 200));
    if (result === 'failure' && rec.runPage) parts.push(clean(rec.runPage, 200));
    return parts.join('  ').trimEnd();
  }
  if (rec.event === undefined && level < 50) return undefined;
  const tag = level >= 50 ? `${paint('red', 'ERROR')} ` : level >= 40 ? `${paint('yellow', 'WARN')} ` : '';
  const err = rec.err ?? rec.error;
  const detail =
    typeof err === 'string' ? err : err && typeof err === 'object' && 'message' in err ? (err as { message: unknown }).message : undefined;
  const first = detail === undefined ? '' : `: ${clean(String(detail).split('\n')[0], 300)}`;
  return `${time}  ${tag}${clean(rec.msg ?? rec.event, 500)}${first}`;
}

function localTime(d: Date): string {
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** One line of text: control characters (escape sequences, newlines) replaced, cut at `max`. */
function clean(value: unknown, max = 80): string {
  // eslint-disable-next-line no-control-regex
  const text = String(value ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '\u00b7');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A stream for pino that writes readable lines (formatLogRecord) to `out` instead of JSON. */
export function prettyStream(out: NodeJS.WritableStream, opts: PrettyOptions = {}): Writable {
  let pending = '';
  const emit = (line: string) => {
    if (line.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      out.write(`${clean(line, 2000)}\n`);
      return;
    }
    const text = rec && typeof rec === 'object' ? formatLogRecord(rec as Record<string, unknown>, opts) : clean(line, 2000);
    if (text !== undefined) out.write(`${text}\n`);
  };
  return new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _encoding, callback) {
      pending += chunk.toString();
      let i: number;
      while ((i = pending.indexOf('\n')) >= 0) {
        emit(pending.slice(0, i));
        pending = pending.slice(i + 1);
      }
      callback();
    },
    final(callback) {
      emit(pending);
      pending = '';
      callback();
    },
  });
}

export type { Logger };
