// Log lines for people on a terminal: one readable line per run, the service's own events and
// errors, nothing a target sends able to steer the terminal; JSON lines everywhere else.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, formatLogRecord, prettyStream, resolveLogFormat } from '../../src/log.ts';
import { runLogFields } from '../../src/service/service.ts';
import { fakeResult } from '../support/results.ts';

const time = () => '10:15:03';
const at = '2026-11-25T10:15:03.000Z';

function collect(stream: PassThrough): () => string {
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString()));
  return () => out;
}

describe('readable log lines', () => {
  it('one line per run: time, target, probe, depth, verdict, reason, duration (and for failures the message and the page)', () => {
    const ok = { ...runLogFields(fakeResult({ probe: 'browser', ok: true, durationSeconds: 3.7 })), time: at, level: 30 };
    expect(formatLogRecord(ok, { time })).toBe('10:15:03  box         browser  full   ok                        3.7 s');
    const failed = {
      ...runLogFields({
        ...fakeResult({ probe: 'api', depth: 'light', reason: 'auth_rejected', durationSeconds: 0.4 }),
        message: 'the API answered 401',
      }),
      runPage: 'http://127.0.0.1:9687/runs/20261125T101500Z-3f9a2b',
      time: at,
      level: 40,
    };
    expect(formatLogRecord(failed, { time })).toBe(
      '10:15:03  box         api      light  FAIL auth_rejected        0.4 s  the API answered 401  http://127.0.0.1:9687/runs/20261125T101500Z-3f9a2b',
    );
    const cancelled = {
      ...runLogFields({ ...fakeResult({ probe: 'api' }), ok: false, cancelled: true, message: 'cancelled: SIGTERM' }),
      level: 30,
    };
    expect(formatLogRecord(cancelled, { time })).toMatch(/^10:15:03 {2}box {9}api {6}full {3}cancelled {17}4\.0 s {2}cancelled: SIGTERM$/);
  });

  it("shows the service's events and errors, leaves the runner's step lines to JSON", () => {
    expect(
      formatLogRecord({ level: 30, time: at, event: 'service_started', msg: 'probe service listening on http://127.0.0.1:9687' }, { time }),
    ).toBe('10:15:03  probe service listening on http://127.0.0.1:9687');
    expect(
      formatLogRecord({ level: 40, time: at, event: 'history_bad_lines', msg: 'run history: 2 unreadable line(s) skipped' }, { time }),
    ).toBe('10:15:03  WARN run history: 2 unreadable line(s) skipped');
    expect(
      formatLogRecord({ level: 50, time: at, event: 'runner_error', msg: 'runner error', err: 'TypeError: x\n    at y' }, { time }),
    ).toBe('10:15:03  ERROR runner error: TypeError: x');
    expect(
      formatLogRecord({ level: 30, time: at, probe: 'browser', target: 'box', msg: 'step login ok in 0.8 s' }, { time }),
    ).toBeUndefined();
    expect(formatLogRecord({ level: 40, time: at, probe: 'browser', target: 'box', msg: 'run failed' }, { time })).toBeUndefined();
    expect(formatLogRecord({ level: 50, time: at, probe: 'browser', msg: 'probe error', error: { message: 'boom' } }, { time })).toBe(
      '10:15:03  ERROR probe error: boom',
    );
  });

  it("replaces control characters from a target's text: no escape sequence reaches the terminal, a run stays one line", () => {
    const rec = {
      ...runLogFields({ ...fakeResult({ reason: 'server_error' }), message: 'bad\u001b[2J\u001b]0;pwned\u0007\nsecond line\r\u009b31m' }),
      target: 'box\u001b[31m',
      time: at,
    };
    const line = formatLogRecord(rec, { time })!;
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line).toContain('bad·[2J·]0;pwned··second line··31m');
    // Colours are the formatter's own, and only when asked.
    const coloured = formatLogRecord({ ...rec, target: 'box' }, { time, colour: true })!;
    expect(coloured).toContain('\u001b[31mFAIL server_error');
    expect(coloured.split('\u001b')).toHaveLength(3);
  });

  it('pretty through pino: a run_finished record becomes its line, secrets stay censored, other lines pass', async () => {
    const out = new PassThrough();
    const text = collect(out);
    const logger = createLogger({ destination: prettyStream(out, { time }), level: 'info' });
    logger.info({ probe: 'api', target: 'box' }, 'step login ok in 0.1 s');
    logger.warn({ ...runLogFields(fakeResult({ reason: 'login_failed' })), password: 'hunter2' }, 'api → box: login_failed');
    logger.info({ event: 'service_stopped' }, 'probe service stopped');
    await new Promise((r) => setImmediate(r));
    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^10:15:03 {2}box {9}api {6}full {3}FAIL login_failed {9}4\.0 s {2}failed: login_failed$/);
    expect(lines[1]).toBe('10:15:03  probe service stopped');
    expect(text()).not.toContain('hunter2');
  });

  it('auto: pretty on a terminal, JSON lines otherwise; json and pretty as asked', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const pipe = new PassThrough();
    expect(resolveLogFormat('auto', tty)).toBe('pretty');
    expect(resolveLogFormat('auto', pipe)).toBe('json');
    expect(resolveLogFormat('json', tty)).toBe('json');
    expect(resolveLogFormat('pretty', pipe)).toBe('pretty');

    const json = collect(pipe);
    createLogger({ destination: pipe, format: 'auto' }).info({ event: 'service_stopped' }, 'stopped');
    const pretty = collect(tty);
    createLogger({ destination: tty, format: 'auto' }).info({ event: 'service_stopped' }, 'stopped');
    await new Promise((r) => setImmediate(r));
    expect(JSON.parse(json())).toMatchObject({ event: 'service_stopped', msg: 'stopped' });
    expect(pretty()).toMatch(/^\d\d:\d\d:\d\d {2}stopped\n$/);
  });
});
