import { join } from "node:path";
import { type Env, loadConfig } from "@poolkeeper/core";
import { generateMnemonic, pubkeyFromSecret, seedFromCanonical, ValidatorKeyDeriver } from "@poolkeeper/keys";
import { envFromDir, initDaemonDir, OPERATOR_DAEMON_ENV, type OperatorDaemonSettings } from "../src/index.js";
import { type Pool, TEST_PASSWORD } from "./harness.js";

export interface TestDaemonDir {
  dir: string;
  mnemonic: string;
  operatorId: number;
  token: string;
}

let n = 0;
/** `daemon init` for a new operator with a new mnemonic (cheap KDFs). */
export async function initTestDaemon(
  pool: Pool,
  o: { lowWater: number; batchSize: number; keymanagerUrl?: string; fetch?: typeof fetch },
): Promise<TestDaemonDir> {
  const { id, token } = await pool.newOperator();
  const mnemonic = generateMnemonic();
  const dir = join(pool.tmp, `daemon-${++n}`);
  await initDaemonDir({
    dir,
    apiUrl: pool.apiUrl,
    operatorId: id,
    token,
    network: pool.networkFile,
    mnemonic,
    password: TEST_PASSWORD,
    lowWater: o.lowWater,
    batchSize: o.batchSize,
    ...(o.keymanagerUrl === undefined ? {} : { keymanagerUrl: o.keymanagerUrl }),
    mnemonicKdfCost: 1024,
    confirm: async () => true,
    ...(o.fetch === undefined ? {} : { fetch: o.fetch }),
  });
  return { dir, mnemonic, operatorId: id, token };
}

/** The daemon's environment from its directory, as `daemon run` builds it, with test settings. */
export async function daemonEnv(dir: string, extra: Env = {}): Promise<Env> {
  return envFromDir(dir, {
    DAEMON_MNEMONIC_PASSWORD: TEST_PASSWORD,
    DAEMON_KDF_COST: "1024",
    METRICS_PORT: "0",
    DAEMON_POLL_SECONDS: "0.1",
    LOG_LEVEL: "debug",
    ...extra,
  });
}

export async function daemonSettings(dir: string, extra: Env = {}): Promise<OperatorDaemonSettings> {
  return loadConfig(OPERATOR_DAEMON_ENV, await daemonEnv(dir, extra));
}

/** Pubkeys (hex, no 0x) of indices 0..count-1 of a mnemonic. */
export function pubkeysOf(mnemonic: string, count: number): string[] {
  const seed = seedFromCanonical(mnemonic);
  const d = ValidatorKeyDeriver.fromSeed(seed);
  return Array.from({ length: count }, (_, i) =>
    Buffer.from(pubkeyFromSecret(d.keys(i).signingKey)).toString("hex"),
  );
}

/** A fetch that records every request (URL, method, body) before passing it on. */
export function recordingFetch(
  hook?: (url: string, init: RequestInit | undefined, res: Response) => Response | Promise<Response>,
): { fetch: typeof fetch; sent: Array<{ url: string; method: string; body: string }> } {
  const sent: Array<{ url: string; method: string; body: string }> = [];
  const f: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    sent.push({
      url,
      method: init?.method ?? "GET",
      body: typeof init?.body === "string" ? init.body : "",
    });
    const res = await fetch(input, init);
    return hook === undefined ? res : hook(url, init, res);
  };
  return { fetch: f, sent };
}
