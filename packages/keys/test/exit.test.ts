import { fromHex, loadNetwork } from "@poolkeeper/core";
import { describe, expect, it } from "vitest";
import {
  parseSignedVoluntaryExit,
  pubkeyFromSecret,
  signVoluntaryExit,
  verifyVoluntaryExit,
} from "../src/index.js";

// Vector from ChorusOne/eth-staking-smith tests/e2e/presigned_exit_message.rs, cross-checked there
// with `ethdo validator exit --offline` (mainnet, Capella fork version 0x03000000).
const SECRET = "6d446ca271eb229044b9039354ecdfa6244d1a11615ec1a46fc82a800367de5d";
const PUBKEY =
  "8844cebb34d10e0e57f3c29ada375dafe14762ab85b2e408c3d6d55ce6d03317660bca9f2c2d17d8fbe14a2529ada1ea";
const SIGNATURE =
  "0xa74f22d26da9934c2a9c783799fb9e7bef49b3d7c3759a0683b52ee5d71516c0ecdbcc47703f11959c5e701a6c47194410bed800217bd4dd0dab1e0587b14551771accd04ff1c78302f9605f44c3894976c5b3537b70cb7ac9dcb5398dc22079";

const mainnet = loadNetwork("mainnet");
const hoodi = loadNetwork("hoodi");
const sk = fromHex(SECRET, "sk", 32);

describe("signVoluntaryExit", () => {
  it("matches the eth-staking-smith / ethdo mainnet vector, in the Beacon API's JSON", () => {
    const signed = signVoluntaryExit({ secretKey: sk, validatorIndex: 100, epoch: 305658, network: mainnet });
    expect(Buffer.from(pubkeyFromSecret(sk)).toString("hex")).toBe(PUBKEY);
    expect(signed).toEqual({ message: { epoch: "305658", validator_index: "100" }, signature: SIGNATURE });
    expect(JSON.stringify(signed)).toBe(
      `{"message":{"epoch":"305658","validator_index":"100"},"signature":"${SIGNATURE}"}`,
    );
  });

  it("verifies for its pubkey and network only", () => {
    const pk = fromHex(PUBKEY, "pk", 48);
    const signed = signVoluntaryExit({ secretKey: sk, validatorIndex: 7n, epoch: "12", network: hoodi });
    expect(verifyVoluntaryExit(signed, pk, hoodi)).toBe(true);
    expect(verifyVoluntaryExit(signed, pk, mainnet)).toBe(false);
    expect(verifyVoluntaryExit({ ...signed, message: { ...signed.message, epoch: "13" } }, pk, hoodi)).toBe(
      false,
    );
    const other = pubkeyFromSecret(fromHex("01".padStart(64, "0"), "sk", 32));
    expect(verifyVoluntaryExit(signed, other, hoodi)).toBe(false);
  });

  it("rejects bad indices and epochs naming the field", () => {
    expect(() => signVoluntaryExit({ secretKey: sk, validatorIndex: -1, epoch: 1, network: hoodi })).toThrow(
      /^validatorIndex: /,
    );
    expect(() =>
      signVoluntaryExit({ secretKey: sk, validatorIndex: 1, epoch: "1e3", network: hoodi }),
    ).toThrow(/^epoch: /);
    expect(() =>
      signVoluntaryExit({ secretKey: sk, validatorIndex: 1, epoch: 1n << 64n, network: hoodi }),
    ).toThrow(/^epoch: must be between 0 and 2\^64-1$/);
  });

  it("no error message carries the secret key", () => {
    const attempts = [
      () => signVoluntaryExit({ secretKey: sk, validatorIndex: "x", epoch: 1, network: hoodi }),
      () => signVoluntaryExit({ secretKey: sk, validatorIndex: 1, epoch: -1, network: hoodi }),
      () => signVoluntaryExit({ secretKey: sk.subarray(1), validatorIndex: 1, epoch: 1, network: hoodi }),
      () =>
        signVoluntaryExit({
          secretKey: new Uint8Array(32).fill(0xff),
          validatorIndex: 1,
          epoch: 1,
          network: hoodi,
        }),
    ];
    for (const attempt of attempts) {
      let message = "";
      try {
        attempt();
      } catch (e) {
        message = `${(e as Error).message} ${JSON.stringify(e)}`;
      }
      expect(message).not.toBe("");
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain(SECRET.slice(4, 20));
      expect(message).not.toContain("ffffffff");
    }
  });

  it("parses the Beacon API JSON strictly, never echoing the signature", () => {
    const signed = signVoluntaryExit({ secretKey: sk, validatorIndex: 1, epoch: 2, network: hoodi });
    expect(parseSignedVoluntaryExit(signed).validatorIndex).toBe(1n);
    const bad = { ...signed, signature: signed.signature.slice(0, -2) };
    let message = "";
    try {
      parseSignedVoluntaryExit(bad);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe("signature: must be 0x followed by 96 bytes of hex");
    expect(() =>
      parseSignedVoluntaryExit({ message: { epoch: 2, validator_index: "1" }, signature: signed.signature }),
    ).toThrow(/^message.epoch: must be a decimal string$/);
  });
});
