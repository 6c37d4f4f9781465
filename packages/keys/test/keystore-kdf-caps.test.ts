import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";

// Every KDF call goes through these spies (they call the real functions), so that a test can
// assert that a hostile keystore was refused before any KDF work.
const kdfCalls = vi.hoisted(() => ({ count: 0 }));
vi.mock("node:crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:crypto")>();
  const counted =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      kdfCalls.count++;
      return f(...a);
    };
  return {
    ...real,
    scrypt: counted(real.scrypt as (...a: unknown[]) => void),
    scryptSync: counted(real.scryptSync),
    pbkdf2: counted(real.pbkdf2),
    pbkdf2Sync: counted(real.pbkdf2Sync),
  };
});

const { checkKdfCost, decryptKeystore, decryptKeystoreSync, encryptKeystoreSync, KDF_CAPS, parseKeystore } =
  await import("../src/keystore.js");
const { KeysError } = await import("../src/errors.js");

const V = join(import.meta.dirname, "../../../test/fixtures/vectors");
const PASSWORD = "𝔱𝔢𝔰𝔱𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡🔑";
const vector = (f: string) =>
  JSON.parse(readFileSync(join(V, f), "utf8")) as {
    crypto: { kdf: { params: Record<string, unknown> } };
  };
/** The EIP-2335 scrypt vector with other KDF parameters. */
function scryptKeystore(params: Record<string, number>) {
  const k = vector("eip2335/scrypt.json");
  Object.assign(k.crypto.kdf.params, params);
  return k;
}
function pbkdf2Keystore(c: number) {
  const k = vector("eip2335/pbkdf2.json");
  k.crypto.kdf.params.c = c;
  return k;
}

async function refusal(p: Promise<unknown>): Promise<InstanceType<typeof KeysError>> {
  try {
    await p;
  } catch (e) {
    return e as InstanceType<typeof KeysError>;
  }
  throw new Error("expected a rejection");
}

const PF = "keystore.crypto.kdf.params";

describe("a keystore's KDF cost is capped, checked before any KDF work", () => {
  it("scrypt n=2^20, r=8, p=16 (1 GiB): refused at once, naming the parameters and the cap", async () => {
    const hostile = scryptKeystore({ n: 2 ** 20, r: 8, p: 16 });
    kdfCalls.count = 0;
    const e = await refusal(decryptKeystore(hostile, PASSWORD, "--password-file"));
    expect(e).toBeInstanceOf(KeysError);
    expect(e.code).toBe("ERR_KEYSTORE_KDF_COST");
    expect(e.kind).toBe("invalid_input");
    expect(e.message).toBe(
      `${PF}: scrypt n=1048576, r=8 needs 128·n·r = 1 GiB of memory, above the cap of 256 MiB (n=262144, r=8, as EIP-2335 tools write)`,
    );
    expect(e.details).toEqual({ field: PF, parameter: "128·n·r", value: 2 ** 30, cap: 2 ** 28 });
    expect(e.message).not.toContain(PASSWORD);
    expect(() => decryptKeystoreSync(hostile, PASSWORD)).toThrow(e.message);
    expect(() => parseKeystore(hostile)).toThrow(e.message);
    expect(kdfCalls.count).toBe(0);
  });

  it("scrypt within the memory cap but with too much work (p=4 at n=2^18, r=8): refused at once", async () => {
    kdfCalls.count = 0;
    const e = await refusal(decryptKeystore(scryptKeystore({ n: 2 ** 18, r: 8, p: 4 }), PASSWORD));
    expect(e.code).toBe("ERR_KEYSTORE_KDF_COST");
    expect(e.message).toBe(
      `${PF}: scrypt n=262144, r=8, p=4 is n·r·p = 8388608 of work, above the cap of 4194304 (EIP-2335 tools write n=262144, r=8, p=1)`,
    );
    // r=32 at n=2^17: 512 MiB.
    const r32 = await refusal(decryptKeystore(scryptKeystore({ n: 2 ** 17, r: 32, p: 1 }), PASSWORD));
    expect(r32.details).toMatchObject({ parameter: "128·n·r", value: 2 ** 29 });
    expect(kdfCalls.count).toBe(0);
  });

  it("pbkdf2 c above 2^20: refused at once", async () => {
    kdfCalls.count = 0;
    const e = await refusal(decryptKeystore(pbkdf2Keystore(2 ** 20 + 1), PASSWORD));
    expect(e.code).toBe("ERR_KEYSTORE_KDF_COST");
    expect(e.message).toBe(
      `${PF}: pbkdf2 c=1048577 iterations is above the cap of 1048576 (EIP-2335 tools write c=262144)`,
    );
    expect(kdfCalls.count).toBe(0);
  });

  it("the caps sit at (scrypt memory) or above (work) what EIP-2335 tools write", () => {
    const scrypt = (n: number, r: number, p: number) => ({
      function: "scrypt" as const,
      params: { dklen: 32, n, r, p, salt: "" },
      message: "" as const,
    });
    const pbkdf2 = (c: number) => ({
      function: "pbkdf2" as const,
      params: { dklen: 32, c, prf: "hmac-sha256" as const, salt: "" },
      message: "" as const,
    });
    expect(KDF_CAPS).toEqual({ scryptMemoryBytes: 2 ** 28, scryptWork: 2 ** 22, pbkdf2Iterations: 2 ** 20 });
    for (const ok of [
      scrypt(2 ** 18, 8, 1),
      scrypt(2 ** 18, 8, 2),
      scrypt(2 ** 14, 8, 32),
      pbkdf2(2 ** 20),
    ]) {
      expect(() => checkKdfCost(ok, "f")).not.toThrow();
    }
    for (const bad of [
      scrypt(2 ** 19, 8, 1),
      scrypt(2 ** 18, 8, 3),
      scrypt(2 ** 18, 16, 1),
      pbkdf2(2 ** 20 + 1),
    ]) {
      expect(() => checkKdfCost(bad, "f")).toThrow(/^f: .* above the cap of /);
    }
  });

  it("writing refuses a cost this code would refuse to read, naming the setting", () => {
    kdfCalls.count = 0;
    const secret = new Uint8Array(32).fill(1);
    expect(() =>
      encryptKeystoreSync({ secret, password: "pw", path: "", kdf: { function: "scrypt", cost: 2 ** 20 } }),
    ).toThrow(/^kdf: scrypt n=1048576, r=8 needs 128·n·r = 1 GiB of memory, above the cap of 256 MiB/);
    expect(() =>
      encryptKeystoreSync({ secret, password: "pw", path: "", kdf: { function: "pbkdf2", cost: 2 ** 21 } }),
    ).toThrow(/^kdf: pbkdf2 c=2097152 iterations is above the cap/);
    expect(kdfCalls.count).toBe(0);
    // The spies see the KDF calls (so the zero counts above mean something).
    const ks = encryptKeystoreSync({
      secret,
      password: "pw",
      path: "",
      kdf: { function: "pbkdf2", cost: 16 },
    });
    expect(decryptKeystoreSync(ks, "pw")).toEqual(secret);
    expect(kdfCalls.count).toBe(2);
  });
});
