// Starts ONE TIS in a box for the whole integration run and hands its coordinates to the
// tests (`inject('box')`); stops it when the run ends.
import type { TestProject } from 'vitest/node';
import { startBox, type BoxDetails } from '../box/box.ts';
import { boxInfo } from './support/box-info.ts';

let box: BoxDetails | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  box = await startBox({ quiet: true });
  const info = boxInfo(box);
  project.provide('box', info);
  return async () => {
    await box?.stop();
    box = undefined;
  };
}
