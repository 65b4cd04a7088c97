// Playwright Test global setup: one TIS in a box for the browser specs. Its coordinates reach
// the worker processes through the environment (workers inherit it), as BUP_BOX (JSON).
import { startBox } from '../../box/box.ts';
import { boxInfo, type BoxInfo } from './box-info.ts';

export const BOX_ENV = 'BUP_BOX';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const box = await startBox({ quiet: true });
  const info = boxInfo(box);
  process.env[BOX_ENV] = JSON.stringify(info);
  // Returned function = global teardown.
  return async () => {
    await box.stop();
  };
}

/** In a spec: the box started by the global setup. */
export function boxFromEnv(): BoxInfo {
  const raw = process.env[BOX_ENV];
  if (!raw) throw new Error(`${BOX_ENV} is not set: run the specs with \`npx playwright test\``);
  return JSON.parse(raw) as BoxInfo;
}
