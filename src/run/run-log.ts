// A run's own log: every line is scrubbed, kept for the evidence folder's probe.log, and
// forwarded to the service's structured logger when there is one.
import type { Logger } from '../log.ts';
import type { Redactor } from '../redact.ts';

type Level = 'debug' | 'info' | 'warn' | 'error';

export class RunLog {
  readonly lines: string[] = [];

  constructor(
    private readonly redactor: Redactor,
    private readonly logger?: Logger,
    private readonly bindings: Record<string, unknown> = {},
  ) {}

  debug(msg: string, data?: Record<string, unknown>): void {
    this.write('debug', msg, data);
  }
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
    const clean = this.redactor.redact(msg);
    const fields = data ? this.redactor.redactDeep(data) : undefined;
    this.lines.push(JSON.stringify({ time: new Date().toISOString(), level, ...this.bindings, msg: clean, ...fields }));
    this.logger?.[level]({ ...this.bindings, ...fields }, clean);
  }

  text(): string {
    return this.lines.join('\n') + (this.lines.length ? '\n' : '');
  }
}
