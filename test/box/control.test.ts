// The control interface: listing, setting and clearing faults, and clear 4xx for bad input.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import axios from 'axios';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { clearFault, listFaults, setFault } from '../../box/control-client.ts';
import { FAULT_NAMES } from '../../box/faults.ts';

const box = inject('box');
const control = axios.create({ baseURL: box.urls.control, validateStatus: () => true, timeout: 30_000 });
const run = promisify(execFile);

describe('fault control', () => {
  afterEach(async () => {
    await clearFault(box.urls.control);
  });

  it('lists the nine faults as available and none active on a fresh box', async () => {
    const list = await listFaults(box.urls.control);
    expect(list.available).toEqual([...FAULT_NAMES]);
    expect(list.available).toHaveLength(9);
    expect(list.active).toEqual([]);
  });

  it('sets faults with their params, shows when, clears one or all', async () => {
    await setFault(box.urls.control, 'server-error', { status: 502 });
    const active = await setFault(box.urls.control, 'slow', { delayMs: 10 });
    expect(active.map((f) => f.name)).toEqual(['slow', 'server-error']);
    expect(active.find((f) => f.name === 'server-error')!.params).toEqual({ status: 502 });
    for (const f of active) expect(Date.parse(f.since)).not.toBeNaN();

    // Setting again replaces the params.
    const again = await setFault(box.urls.control, 'server-error', { status: 500 });
    expect(again.find((f) => f.name === 'server-error')!.params).toEqual({ status: 500 });

    expect((await clearFault(box.urls.control, 'slow')).map((f) => f.name)).toEqual(['server-error']);
    expect(await clearFault(box.urls.control)).toEqual([]);
    // Clearing what is not active is fine.
    expect(await clearFault(box.urls.control, 'slow')).toEqual([]);
  });

  it('answers 404 for an unknown fault name', async () => {
    for (const res of [await control.post('/faults/meteor-strike', {}), await control.delete('/faults/meteor-strike')]) {
      expect(res.status).toBe(404);
      expect(res.data.error).toContain('meteor-strike');
    }
    expect((await control.get('/nothing-here')).status).toBe(404);
  });

  it('answers 400 for malformed JSON and for params that do not fit the fault', async () => {
    const bad: [string, unknown, string?][] = [
      ['slow', '{"delayMs": ', 'application/json'],
      ['slow', { delayMs: 'soon' }],
      ['slow', { delayMs: -5 }],
      ['server-error', { status: 404 }],
      ['login-down', { mode: 'sometimes' }],
      ['stale-config', { extra: true }],
      ['slow', [1, 2]],
      ['slow', '"text"', 'application/json'],
      ['slow', 'delayMs=5', 'text/plain'],
      ['slow', 'delayMs=5', 'application/x-www-form-urlencoded'],
    ];
    for (const [name, body, type] of bad) {
      const res = await control.post(`/faults/${name}`, body, type ? { headers: { 'content-type': type } } : {});
      expect(res.status, `${name} ${JSON.stringify(body)}`).toBe(400);
      expect(typeof res.data.error).toBe('string');
    }
    // Nothing was switched on by bad input, and the box still answers.
    expect((await listFaults(box.urls.control)).active).toEqual([]);
  });

  it('is driven by the tis-box CLI', async () => {
    const cli = (...args: string[]) => run('node', ['bin/tis-box.js', ...args, '--control', box.urls.control], { timeout: 60_000 });
    const set = await cli('fault', 'server-error', '--status', '502');
    expect(set.stdout).toContain('active: server-error {"status":502}');
    const listed = await cli('faults');
    expect(listed.stdout).toContain('server-error');
    expect(listed.stdout).toContain(`available: ${FAULT_NAMES.join(', ')}`);
    const cleared = await cli('fault', 'clear');
    expect(cleared.stdout).toContain('no active faults');
    await expect(cli('fault', 'meteor-strike')).rejects.toMatchObject({ stderr: expect.stringContaining('404') });
  });
});
