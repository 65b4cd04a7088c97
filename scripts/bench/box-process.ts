// TIS in a box in a process of its own, so that the box's stand-ins (generic-upload, Profile,
// the admin page's server) never count as the CPU of what is measured. Started with fork();
// sends the box's coordinates once it is up, stops when told, or when its parent goes away.
import { startBox } from '../../box/box.ts';

const box = await startBox({ quiet: true });
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await box.stop().catch(() => {});
  process.exit(0);
};
process.on('message', (m) => {
  if (m === 'stop') void stop();
});
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
process.send?.({ startMs: box.startMs, keycloakStartMs: box.keycloakStartMs, configPath: box.configPath });
