/**
 * `poolkeeper beacon-sim`: the action behind the CLI command (services/cli wires the flags and
 * chooses the preset from --preset before this package is imported). Reads the scenario file,
 * starts one sim that follows the wall clock, prints its URL, and runs until SIGINT/SIGTERM
 * (service kit: `runProcess`).
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { ACTIVE_PRESET } from "@lodestar/params";
import { ConfigError, createLogger, runProcess, ValidationError } from "@poolkeeper/core";
import { SIM_FORKS, type SimFork } from "./chain-types.js";
import { type BeaconSim, startBeaconSim } from "./index.js";
import { parseScenario } from "./scenario.js";

export interface BeaconSimCliOptions {
  validators?: string;
  port?: string;
  host?: string;
  scenario?: string;
  secondsPerSlot?: string;
  slotsPerEpoch?: string;
  preset?: string;
  genesisTime?: string;
  /** deneb | electra | fulu (default: the scenario's, else fulu) */
  fork?: string;
  /** Write the chain's poolkeeper network file here (what POOLKEEPER_NETWORK reads). */
  networkOut?: string;
  /** The network's name in that file (default devnet). */
  networkName?: string;
}

function int(value: string | undefined, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new ValidationError(field, `expected an integer, got "${value}"`);
  const n = Number(value);
  if (n < min || n > max) throw new ValidationError(field, `must be in ${min}..${max}`);
  return n;
}

export async function startFromCli(
  opts: BeaconSimCliOptions,
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<BeaconSim> {
  if (opts.preset !== undefined && opts.preset !== ACTIVE_PRESET) {
    throw new ConfigError(
      `--preset ${opts.preset}: this process already loaded the ${ACTIVE_PRESET} preset (set LODESTAR_PRESET=${opts.preset})`,
    );
  }
  let scenario = {};
  if (opts.scenario !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.scenario, "utf8");
    } catch (e) {
      throw new ValidationError(
        "--scenario",
        `cannot read ${opts.scenario}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ValidationError("--scenario", `${opts.scenario} is not valid JSON`);
    }
    scenario = parseScenario(json);
  }
  const secondsPerSlot = opts.secondsPerSlot === undefined ? undefined : Number(opts.secondsPerSlot);
  if (secondsPerSlot !== undefined && !(secondsPerSlot > 0 && secondsPerSlot <= 60))
    throw new ValidationError("--seconds-per-slot", "must be a number in (0, 60]");
  if (opts.fork !== undefined && !(SIM_FORKS as readonly string[]).includes(opts.fork))
    throw new ValidationError("--fork", `must be one of ${SIM_FORKS.join(", ")}, got "${opts.fork}"`);
  const fork = opts.fork as SimFork | undefined;
  const t0 = performance.now();
  const sim = await startBeaconSim({
    ...(fork === undefined ? {} : { fork }),
    validators: int(opts.validators, "--validators", 1, 4_000_000),
    port: int(opts.port, "--port", 0, 65535) ?? 5052,
    host: opts.host,
    slotsPerEpoch: int(opts.slotsPerEpoch, "--slots-per-epoch", 1, 64),
    secondsPerSlot,
    genesisTime: int(opts.genesisTime, "--genesis-time", 0, 2 ** 40),
    scenario,
    clock: "wall",
  });
  out(
    `beacon-sim: ${sim.chain.n} validators, fork ${sim.chain.fork}, preset ${ACTIVE_PRESET}, ${sim.chain.slotsPerEpoch} slots/epoch, ${sim.chain.secondsPerSlot} s/slot, listening on ${sim.url} (started in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  if (opts.networkOut !== undefined) {
    const json = sim.chain.networkJson(opts.networkName ?? "devnet");
    try {
      // atomically: a service waiting for the file never reads half of it
      const tmp = `${opts.networkOut}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(json, null, 2)}\n`);
      await rename(tmp, opts.networkOut);
    } catch (e) {
      await sim.close();
      throw new ValidationError(
        "--network-out",
        `cannot write ${opts.networkOut}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
      );
    }
    out(`beacon-sim: network file ${opts.networkOut} (POOLKEEPER_NETWORK)`);
  }
  return sim;
}

/**
 * The beacon-sim process: `startFromCli`, then until SIGTERM/SIGINT, then `sim.close()`; a bad
 * flag is one `error: …` line and exit code 1 (service kit). Fault lines go to stderr: stdout
 * carries the sim's line.
 */
export function runBeaconSimProcess(opts: BeaconSimCliOptions): Promise<number> {
  return runProcess(() => startFromCli(opts), {
    name: "beacon-sim",
    faultLogger: createLogger({ name: "beacon-sim", destination: process.stderr }),
  });
}
