// Stop once on Ctrl-C or SIGTERM, then exit: 0 when everything stopped, 1 when stopping failed.
export function stopOnSignals(stop: () => Promise<void>, message: (signal: string) => string): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${message(signal)}\n`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
