import { readFileSync } from "node:fs";
import { ConfigError } from "./errors.js";
import { fromHex } from "./hex.js";

/** What poolkeeper needs to know about a consensus network. Byte fields are validated hex. */
export interface Network {
  name: string;
  /** GENESIS_FORK_VERSION, 4 bytes: the deposit domain uses it on every network. */
  genesisForkVersion: Uint8Array;
  genesisValidatorsRoot: Uint8Array;
  /** Unix seconds. */
  genesisTime: number;
  secondsPerSlot: number;
  slotsPerEpoch: number;
  /** CAPELLA_FORK_VERSION: voluntary exits are signed with it from Deneb on (EIP-7044). */
  capellaForkVersion: Uint8Array;
  depositContractAddress: string;
  chainId: number;
}

export interface NetworkJson {
  name: string;
  genesisForkVersion: string;
  genesisValidatorsRoot: string;
  genesisTime: number;
  secondsPerSlot: number;
  slotsPerEpoch: number;
  capellaForkVersion: string;
  depositContractAddress: string;
  chainId: number;
}

const PRESETS: Record<string, NetworkJson> = {
  mainnet: {
    name: "mainnet",
    genesisForkVersion: "00000000",
    genesisValidatorsRoot: "4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95",
    genesisTime: 1606824023,
    secondsPerSlot: 12,
    slotsPerEpoch: 32,
    capellaForkVersion: "03000000",
    depositContractAddress: "0x00000000219ab540356cBB839Cbe05303d7705Fa",
    chainId: 1,
  },
  sepolia: {
    name: "sepolia",
    genesisForkVersion: "90000069",
    genesisValidatorsRoot: "d8ea171f3c94aea21ebc42a1ed61052acf3f9209c00e4efbaaddac09ed9b8078",
    genesisTime: 1655733600,
    secondsPerSlot: 12,
    slotsPerEpoch: 32,
    capellaForkVersion: "90000072",
    depositContractAddress: "0x7f02C3E3c98b133055B8B348B2Ac625669Ed295D",
    chainId: 11155111,
  },
  holesky: {
    name: "holesky",
    genesisForkVersion: "01017000",
    genesisValidatorsRoot: "9143aa7c615a7f7115e2b6aac319c03529df8242ae705fba9df39b79c59fa8b1",
    genesisTime: 1695902400,
    secondsPerSlot: 12,
    slotsPerEpoch: 32,
    capellaForkVersion: "04017000",
    depositContractAddress: "0x4242424242424242424242424242424242424242",
    chainId: 17000,
  },
  hoodi: {
    name: "hoodi",
    genesisForkVersion: "10000910",
    genesisValidatorsRoot: "212f13fc4df078b6cb7db228f1c8307566dcecf900867401a92023d7ba99cb5f",
    genesisTime: 1742213400,
    secondsPerSlot: 12,
    slotsPerEpoch: 32,
    capellaForkVersion: "40000910",
    depositContractAddress: "0x00000000219ab540356cBB839Cbe05303d7705Fa",
    chainId: 560048,
  },
};

export const NETWORK_NAMES: readonly string[] = Object.freeze(Object.keys(PRESETS));

function fromJson(j: NetworkJson, source: string): Network {
  const where = (f: string) => `${source}: ${f}`;
  const hex = (v: unknown, f: string, n: number) => {
    if (typeof v !== "string") throw new ConfigError(`${where(f)}: must be a hex string of ${n} bytes`);
    try {
      return fromHex(v, f, n);
    } catch (e) {
      throw new ConfigError(`${where(f)}: ${(e as Error).message}`);
    }
  };
  const int = (v: unknown, f: string, min: number) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
      throw new ConfigError(`${where(f)}: must be an integer >= ${min}`);
    }
    return v;
  };
  if (typeof j.name !== "string" || !/^[a-z0-9][a-z0-9_-]{0,31}$/.test(j.name)) {
    throw new ConfigError(`${where("name")}: must be a short lowercase name (example: "devnet")`);
  }
  if (typeof j.depositContractAddress !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(j.depositContractAddress)) {
    throw new ConfigError(`${where("depositContractAddress")}: must be a 0x-prefixed 20-byte address`);
  }
  return {
    name: j.name,
    genesisForkVersion: hex(j.genesisForkVersion, "genesisForkVersion", 4),
    genesisValidatorsRoot: hex(j.genesisValidatorsRoot, "genesisValidatorsRoot", 32),
    genesisTime: int(j.genesisTime, "genesisTime", 0),
    secondsPerSlot: int(j.secondsPerSlot, "secondsPerSlot", 1),
    slotsPerEpoch: int(j.slotsPerEpoch, "slotsPerEpoch", 1),
    capellaForkVersion: hex(j.capellaForkVersion, "capellaForkVersion", 4),
    depositContractAddress: j.depositContractAddress,
    chainId: int(j.chainId, "chainId", 0),
  };
}

/** A built-in network by name, or a custom one from a JSON file (a path ending in .json). */
export function loadNetwork(nameOrPath: string): Network {
  const preset = PRESETS[nameOrPath];
  if (preset !== undefined) return fromJson(preset, nameOrPath);
  if (nameOrPath.endsWith(".json")) {
    let text: string;
    try {
      text = readFileSync(nameOrPath, "utf8");
    } catch (e) {
      throw new ConfigError(
        `network file ${nameOrPath}: cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ConfigError(`network file ${nameOrPath}: is not valid JSON`);
    }
    if (json === null || typeof json !== "object")
      throw new ConfigError(`network file ${nameOrPath}: must be an object`);
    return fromJson(json as NetworkJson, `network file ${nameOrPath}`);
  }
  throw new ConfigError(
    `unknown network "${nameOrPath}": use one of ${NETWORK_NAMES.join(", ")}, or a path to a network JSON file (example: config/networks/devnet.json)`,
  );
}
