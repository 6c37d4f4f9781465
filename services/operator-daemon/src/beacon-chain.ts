import { type BeaconNodePool, splitCredentials } from "@poolkeeper/beacon";
import { PoolkeeperError } from "@poolkeeper/core";
import type { SignedVoluntaryExitJson } from "@poolkeeper/keys";
import { DAEMON_ERRORS } from "./errors.js";
import type { ExitChain } from "./exits.js";

/**
 * The exit handling's beacon side: reads through BeaconNodePool (failover, health order), and the
 * signed exit POSTed to every node (POST /eth/v1/beacon/pool/voluntary_exits): accepted when one
 * node takes it. An error names the node's status only, never the exit.
 */
export function beaconExitChain(
  pool: BeaconNodePool,
  urls: readonly string[],
  slotsPerEpoch: number,
  doFetch: typeof fetch = fetch,
): ExitChain {
  return {
    async currentEpoch() {
      const slot = await pool.requestJson("head header", "/eth/v1/beacon/headers/head", (j) =>
        Number((j as { data: { header: { message: { slot: string } } } }).data.header.message.slot),
      );
      if (slot === null || !Number.isSafeInteger(slot))
        throw new PoolkeeperError(DAEMON_ERRORS.BEACON, "no beacon node gave the head slot");
      return Math.floor(slot / slotsPerEpoch);
    },
    async validator(index) {
      return pool.requestJson("validator", `/eth/v1/beacon/states/head/validators/${index}`, (j) => {
        const d = (j as { data: { status: string; validator: { exit_epoch: string } } }).data;
        return { status: d.status, exitEpoch: Number(d.validator.exit_epoch) };
      });
    },
    async submit(exit: SignedVoluntaryExitJson) {
      const statuses: string[] = [];
      let accepted = false;
      await Promise.all(
        urls.map(async (raw) => {
          try {
            const { url, headers } = splitCredentials(raw);
            const res = await doFetch(
              new URL("eth/v1/beacon/pool/voluntary_exits", url.endsWith("/") ? url : `${url}/`),
              {
                method: "POST",
                headers: { ...headers, "content-type": "application/json" },
                body: JSON.stringify(exit),
                signal: AbortSignal.timeout(10_000),
              },
            );
            await res.body?.cancel();
            if (res.ok) accepted = true;
            else statuses.push(String(res.status));
          } catch {
            statuses.push("unreachable");
          }
        }),
      );
      if (!accepted)
        throw new PoolkeeperError(
          DAEMON_ERRORS.EXIT_REFUSED,
          `no beacon node accepted the exit (answers: ${statuses.join(", ")})`,
        );
    },
  };
}
