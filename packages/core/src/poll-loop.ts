/**
 * Run `round` now and then every `pollMs` after the previous one ends, until stopped; a failed
 * round goes to `onError` and the next round tries again. `stop()` waits for a running round.
 * The loop of the oracle member and the deposit guardian.
 */
export function pollLoop(
  round: () => Promise<unknown>,
  pollMs: number,
  onError: (e: unknown) => void,
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = round()
      .then(() => undefined)
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, pollMs);
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
