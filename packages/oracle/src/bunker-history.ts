/**
 * "Bunker since", read from the decided reports the oracle stores (oracle_reports): the first of
 * the applied reports with isBunkerMode that run up to the newest applied one.
 */
import { listOracleReports, type Queryable } from "@poolkeeper/store";
import { type BunkerHistoryPoint, bunkerSinceRefSlot } from "./bunker.js";
import type { FrameConfig } from "./frames.js";
import { decodeReport } from "./report-data.js";

const PAGE = 200;

async function* newestFirst(q: Queryable): AsyncGenerator<BunkerHistoryPoint> {
  for (let before: number | undefined; ; ) {
    const page = await listOracleReports(q, PAGE, before);
    for (const r of page)
      yield {
        refSlot: r.refSlot,
        applied: r.status === "applied",
        isBunkerMode: decodeReport(r.report).isBunkerMode,
      };
    if (page.length < PAGE) return;
    before = page[page.length - 1]!.refSlot;
  }
}

/** The bunker mode in force before the next report: its first report's ref slot and time, or null. */
export async function bunkerSince(
  q: Queryable,
  frames: Pick<FrameConfig, "genesisTime" | "secondsPerSlot">,
): Promise<{ refSlot: number; timestamp: number } | null> {
  const points: BunkerHistoryPoint[] = [];
  for await (const p of newestFirst(q)) {
    points.push(p);
    if (p.applied && !p.isBunkerMode) break;
  }
  const refSlot = bunkerSinceRefSlot(points);
  return refSlot === null
    ? null
    : { refSlot, timestamp: frames.genesisTime + refSlot * frames.secondsPerSlot };
}
