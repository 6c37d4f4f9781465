import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBeaconSim } from "@poolkeeper/beacon-sim";
import { loadNetwork } from "@poolkeeper/core";
import { decryptSecretBytes, generateMnemonic, verifyVoluntaryExit } from "@poolkeeper/keys";
import { describe, expect, it } from "vitest";
import { presignExits } from "../src/index.js";
import { pubkeysOf } from "./fixtures.js";

describe("pre-signed exits (validator-ejector's encrypted messages)", () => {
  it("one pbkdf2-encrypted signed exit per validator, valid on the chain's domain; keys not on the chain skipped", async () => {
    const sim = await startBeaconSim({ validators: 8, fork: "deneb" });
    const tmp = mkdtempSync(join(tmpdir(), "pk-presign-"));
    try {
      const file = join(tmp, "net.json");
      const { writeFileSync } = await import("node:fs");
      writeFileSync(
        file,
        JSON.stringify(
          sim.chain.networkJson("presign", { contractAddress: `0x${"00".repeat(20)}`, chainId: 1 }),
        ),
      );
      const network = loadNetwork(file);
      const mnemonic = generateMnemonic();
      const pks = pubkeysOf(mnemonic, 3);
      const idx = sim.chain.addValidators(pks.slice(0, 2).map((p) => Uint8Array.from(Buffer.from(p, "hex"))));
      const out = join(tmp, "messages");
      const r = await presignExits({
        mnemonic,
        network,
        indices: [0, 1, 2],
        epoch: 5,
        validatorIndexOf: async (pk) => {
          const i = sim.chain.indexOfPubkey(Buffer.from(pk, "hex"));
          return i === -1 ? undefined : i;
        },
        messagesPassword: "ejector messages password",
        outDir: out,
        kdfCost: 1024,
      });
      expect(r.skipped).toEqual([2]);
      expect(readdirSync(out).sort()).toEqual(idx.map((i) => `${i}.json`).sort());
      for (const [k, v] of idx.entries()) {
        const path = join(out, `${v}.json`);
        expect(statSync(path).mode & 0o777).toBe(0o600);
        const ks = JSON.parse(readFileSync(path, "utf8"));
        expect(ks.crypto.kdf.function).toBe("pbkdf2");
        expect(typeof ks.path).toBe("string");
        expect(typeof ks.pubkey).toBe("string");
        const exit = JSON.parse(
          Buffer.from(await decryptSecretBytes(ks, "ejector messages password")).toString(),
        );
        expect(exit.message).toEqual({ epoch: "5", validator_index: String(v) });
        expect(verifyVoluntaryExit(exit, Buffer.from(pks[k]!, "hex"), network)).toBe(true);
      }
    } finally {
      await sim.close();
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
