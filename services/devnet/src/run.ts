import { createLogger, logProcessFaults, runProcess } from "@poolkeeper/core";
import { type Devnet, startDevnet } from "./devnet.js";
import { type DevnetFlags, parseDevnetFlags } from "./options.js";
import { exitsSummary, governanceSummary, oracleSummary } from "./summary.js";

/**
 * Resolves once `reports` oracle reports are applied and `exits` exit requests have exited (either
 * may be undefined: not waited for) and, when the scenario proposes a fee, once a report has used
 * it (the proposal executed after its timelock), polled from the devnet's store.
 */
async function finishedWhen(
  devnet: Devnet,
  reports: number | undefined,
  exits: number | undefined,
  feeProposal: boolean,
): Promise<string> {
  for (;;) {
    const oracle = await oracleSummary(devnet.store);
    const exited = (await exitsSummary(devnet.store)).filter((e) => e.state === "exited").length;
    const fee = feeProposal ? (await governanceSummary(devnet.store)).fee : null;
    if (
      (reports === undefined || oracle.reportsApplied >= reports) &&
      (exits === undefined || exited >= exits) &&
      (!feeProposal || (fee?.proposalId != null && fee.firstReportRefSlot !== null))
    )
      return `${oracle.reportsApplied} reports applied, ${exited} exits done`;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

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
  // REDIS_URL names a Redis as --redis-url does (the flag wins)
  const settings = parseDevnetFlags({
    ...flags,
    redisUrl: flags.redisUrl ?? (process.env.REDIS_URL || undefined),
  });
  out(
    `poolkeeper devnet: ${settings.operators} operators × ${settings.keysPerOperator} keys, ` +
      `${settings.secondsPerSlot} s slots, data in ${settings.dataDir}`,
  );
  await runProcess(
    async () => {
      const devnet = await startDevnet({ ...settings, out });
      const { untilReports, untilExits } = settings;
      const headless = untilReports !== undefined || untilExits !== undefined;
      const feeProposal = settings.scenario.governance?.fee != null;
      const goals = [
        ...(untilReports === undefined ? [] : [`${untilReports} oracle reports are applied`]),
        ...(untilExits === undefined ? [] : [`${untilExits} exits are done`]),
        ...(feeProposal ? ["a report has used the fee the DAO's proposal sets"] : []),
      ];
      out(
        headless
          ? `running until ${goals.join(" and ")}`
          : `running${settings.duration === undefined ? " until Ctrl-C" : ` for ${settings.duration} s`}`,
      );
      return {
        ...(headless ? { finished: finishedWhen(devnet, untilReports, untilExits, feeProposal) } : {}),
        async close() {
          out("stopping…");
          await devnet.printSummary().catch(() => undefined);
          // headless: the JSON summary is the last line (read before the store closes)
          const json = headless ? JSON.stringify(await devnet.summary()) : undefined;
          await devnet.close();
          out(json ?? "stopped");
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
