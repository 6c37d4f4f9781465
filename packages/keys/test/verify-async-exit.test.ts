/**
 * The signature workers of verifyDepositDataAsync must never keep a process alive: a CLI or a
 * service that verified an upload has to exit on its own once its work is done.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../..", import.meta.url));

const script = `
import { createHash } from "node:crypto";
import { loadNetwork } from "@poolkeeper/core";
import { buildDepositData, verifyDepositDataAsync, withdrawalCredentials } from "@poolkeeper/keys";
const network = loadNetwork("hoodi");
const wc = withdrawalCredentials({ type: 1, address: new Uint8Array(20) });
const entries = [1, 2].map((i) => {
  const sk = createHash("sha256").update(String(i)).digest();
  sk[0] = 1;
  return buildDepositData({ secretKey: sk, withdrawalCredentials: wc, amountGwei: 32000000000n, network });
});
const r = await verifyDepositDataAsync(JSON.parse(JSON.stringify(entries)), { network }); // one chunk: one of the two workers stays unused
console.log("passed=" + r.passed);
`;

describe("verifyDepositDataAsync in a process", () => {
  it("lets the process exit by itself when the work is done", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: `${root}/packages/keys`,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.signal).toBeNull(); // killed by the timeout = the process hung
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("passed=2");
  });
});
