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
  const settings = parseDevnetFlags(flags);
  out(
    `poolkeeper devnet: ${settings.operators} operators × ${settings.keysPerOperator} keys, ` +
      `${settings.secondsPerSlot} s slots, data in ${settings.dataDir}`,
  );
  const devnet = await startDevnet({ ...settings, out });
  out(`running${settings.duration === undefined ? " until Ctrl-C" : ` for ${settings.duration} s`}`);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
    if (settings.duration !== undefined) setTimeout(done, settings.duration * 1000).unref();
  });
  out("stopping…");
  await devnet.printSummary().catch(() => undefined);
  await devnet.close();
  out("stopped");
}
