import { createLogger, logProcessFaults, runProcess } from "@poolkeeper/core";
import { startDevnet } from "./devnet.js";
import { type DevnetFlags, parseDevnetFlags } from "./options.js";

/**
 * The `poolkeeper devnet` action: validate the flags (a bad one throws, naming it), then run the
 * devnet as a service (`runProcess`, core): start everything, print the summary every few epochs,
 * and close it all on SIGINT/SIGTERM (also while starting) or after --duration seconds; a start-up
 * failure is one `error: …` line and exit code 1 (`process.exitCode`: the caller exits).
 */
export async function runDevnet(
  flags: DevnetFlags,
  out = (l: string) => process.stdout.write(`${l}\n`),
): Promise<void> {
  // fault lines on stderr: stdout carries the run's lines
  const faultLogger = createLogger({ name: "devnet", destination: process.stderr });
  logProcessFaults(faultLogger);
  const settings = parseDevnetFlags(flags);
  out(
    `poolkeeper devnet: ${settings.operators} operators × ${settings.keysPerOperator} keys, ` +
      `${settings.secondsPerSlot} s slots, data in ${settings.dataDir}`,
  );
  await runProcess(
    async () => {
      const devnet = await startDevnet({ ...settings, out });
      out(`running${settings.duration === undefined ? " until Ctrl-C" : ` for ${settings.duration} s`}`);
      return {
        async close() {
          out("stopping…");
          await devnet.printSummary().catch(() => undefined);
          await devnet.close();
          out("stopped");
        },
      };
    },
    {
      name: "devnet",
      faultLogger,
      exit: false,
      secrets: () => [
        settings.redisUrl,
        ...(settings.databaseUrl === undefined ? [] : [settings.databaseUrl]),
      ],
      ...(settings.duration === undefined ? {} : { stopAfterMs: settings.duration * 1000 }),
    },
  );
}
