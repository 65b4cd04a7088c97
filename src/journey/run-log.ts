// A run's own log: every line is scrubbed, kept for the evidence folder's probe.log, and
// forwarded to the service's structured logger when there is one.
import type { Logger } from '../log.ts';
import { capDeep, capText } from '../model/text.ts';
import type { Redactor } from '../redact.ts';

type Level = 'info' | 'warn' | 'error';

/** Lines kept for the evidence's probe.log (errors past it are still kept), and the longest text in one. */
const MAX_LINES = 1_000;
const LINE_TEXT_CAP = 2_000;

export class RunLog {
  readonly lines: string[] = [];
  private droppedLines = 0;

  constructor(
    private readonly redactor: Redactor,
    private readonly logger?: Logger,
    private readonly bindings: Record<string, unknown> = {},
  ) {}

  info(msg: string, data?: Record<string, unknown>): void {
    this.write('info', msg, data);
  }
  warn(msg: string, data?: Record<string, unknown>): void {
    this.write('warn', msg, data);
  }
  error(msg: string, data?: Record<string, unknown>): void {
    this.write('error', msg, data);
  }

  private write(level: Level, msg: string, data?: Record<string, unknown>): void {
    // Texts from the target are capped at their source; this cap keeps any line bounded too.
    const clean = this.redactor.redact(capText(msg, LINE_TEXT_CAP));
    const fields = data ? this.redactor.redactDeep(capDeep(data, LINE_TEXT_CAP)) : undefined;
    if (this.lines.length >= MAX_LINES) {
      this.droppedLines++;
      if (level !== 'error') return;
    }
    this.lines.push(JSON.stringify({ time: new Date().toISOString(), level, ...this.bindings, msg: clean, ...fields }));
    this.logger?.[level]({ ...this.bindings, ...fields }, clean);
  }

  text(): string {
    const note = this.droppedLines ? [JSON.stringify({ level: 'warn', msg: `${this.droppedLines} more line(s) not kept` })] : [];
    const all = [...this.lines, ...note];
    return all.join('\n') + (all.length ? '\n' : '');
  }
}
