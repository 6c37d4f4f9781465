import { createLogger, logProcessFaults } from "@poolkeeper/core";
import { startDevnet } from "./devnet.js";
import { type DevnetFlags, parseDevnetFlags } from "./options.js";

/**
 * The `poolkeeper devnet` action: validate the flags, start everything, print the summary every
 * few epochs, and close it all on SIGINT/SIGTERM or after --duration seconds.
 */
export async function runDevnet(
  flags: DevnetFlags,
  out = (l: string) => process.stdout.write(`${l}\n`),
): Promise<void> {
  logProcessFaults(createLogger({ name: "devnet", destination: process.stderr }));
  const settings = parseDevnetFlags(flags);
  out(
    `poolkeeper devnet: ${settings.operators} operators × ${settings.keysPerOperator} keys, ` +
      `${settings.secondsPerSlot} s slots, data in ${settings.dataDir}`,
  );
  // SIGINT/SIGTERM from here on, also while everything is starting: then it is closed once started
  let stop: (() => void) | undefined;
  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
    stop?.();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const devnet = await startDevnet({ ...settings, out });
    if (!stopRequested) {
      out(`running${settings.duration === undefined ? " until Ctrl-C" : ` for ${settings.duration} s`}`);
      await new Promise<void>((resolve) => {
        stop = resolve;
        if (settings.duration !== undefined) setTimeout(resolve, settings.duration * 1000).unref();
      });
    }
    out("stopping…");
    await devnet.printSummary().catch(() => undefined);
    await devnet.close();
    out("stopped");
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
