import { type Network, PoolkeeperError, toHex0x } from "@poolkeeper/core";
import { STORE_ERRORS } from "../errors.js";
import type { Queryable } from "../store.js";

/**
 * The pool's identity (migration 0007): the network its deposits are signed for and the
 * withdrawal credentials they pay out to. Recorded once, at the first start of a service that is
 * configured with them; a database belongs to that network and those credentials for good.
 */
export interface PoolIdentity {
  networkName: string;
  /** GENESIS_FORK_VERSION (4 bytes): the deposit signatures' domain. */
  genesisForkVersion: Uint8Array;
  /** 32 bytes, where known. */
  genesisValidatorsRoot: Uint8Array | null;
  /** 0x + 20 bytes, lowercase, where configured. */
  depositContractAddress: string | null;
  chainId: number | null;
  withdrawalCredentials: Uint8Array;
}

export interface StoredPoolIdentity extends PoolIdentity {
  recordedAt: Date;
}

/** Where each part of the identity is configured, as the error names it (a variable or a flag). */
export interface PoolIdentitySources {
  network: string;
  withdrawalCredentials: string;
}

/** The services' environment variables. */
export const POOL_IDENTITY_ENV: PoolIdentitySources = {
  network: "POOLKEEPER_NETWORK",
  withdrawalCredentials: "POOLKEEPER_WITHDRAWAL_CREDENTIALS",
};

/** The identity a configuration describes. */
export function poolIdentityOf(network: Network, withdrawalCredentials: Uint8Array): PoolIdentity {
  return {
    networkName: network.name,
    genesisForkVersion: network.genesisForkVersion,
    genesisValidatorsRoot: network.genesisValidatorsRoot,
    depositContractAddress: network.depositContractAddress.toLowerCase(),
    chainId: network.chainId,
    withdrawalCredentials,
  };
}

interface IdentityDbRow {
  network_name: string;
  genesis_fork_version: string;
  genesis_validators_root: string | null;
  deposit_contract_address: string | null;
  chain_id: bigint | null;
  withdrawal_credentials: string;
  recorded_at: Date;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));

const SELECT = `SELECT network_name, encode(genesis_fork_version, 'hex') AS genesis_fork_version,
  encode(genesis_validators_root, 'hex') AS genesis_validators_root, deposit_contract_address, chain_id,
  encode(withdrawal_credentials, 'hex') AS withdrawal_credentials, recorded_at FROM pool_identity`;

/** The recorded identity, or undefined before the first start. */
export async function readPoolIdentity(db: Queryable): Promise<StoredPoolIdentity | undefined> {
  const r = (await db.query<IdentityDbRow>(SELECT)).rows[0];
  if (r === undefined) return undefined;
  return {
    networkName: r.network_name,
    genesisForkVersion: unhex(r.genesis_fork_version),
    genesisValidatorsRoot: r.genesis_validators_root === null ? null : unhex(r.genesis_validators_root),
    depositContractAddress: r.deposit_contract_address,
    chainId: r.chain_id === null ? null : Number(r.chain_id),
    withdrawalCredentials: unhex(r.withdrawal_credentials),
    recordedAt: r.recorded_at,
  };
}

const optHex = (b: Uint8Array | null): string | null => (b === null ? null : toHex0x(b));

/** How a network reads in the error: its name, fork version, and whichever other fields differ. */
function describeNetwork(id: PoolIdentity, other: PoolIdentity): string {
  const parts = [`fork ${toHex0x(id.genesisForkVersion)}`];
  if (optHex(id.genesisValidatorsRoot) !== optHex(other.genesisValidatorsRoot)) {
    parts.push(`genesis validators root ${optHex(id.genesisValidatorsRoot) ?? "unknown"}`);
  }
  if (id.depositContractAddress !== other.depositContractAddress) {
    parts.push(`deposit contract ${id.depositContractAddress ?? "unknown"}`);
  }
  if (id.chainId !== other.chainId) parts.push(`chain id ${id.chainId ?? "unknown"}`);
  return `${id.networkName} (${parts.join(", ")})`;
}

export interface PoolIdentityMismatch {
  /** The configuration source (variable or flag) that disagrees. */
  source: string;
  /** "<source>: configured X but this database belongs to Y". */
  clause: string;
}

/**
 * One clause per configuration source that disagrees with the stored identity, naming both
 * values; empty when they agree. Fields the database does not know (null) are not compared.
 */
export function poolIdentityMismatches(
  stored: PoolIdentity,
  configured: PoolIdentity,
  sources: PoolIdentitySources = POOL_IDENTITY_ENV,
): PoolIdentityMismatch[] {
  const out: PoolIdentityMismatch[] = [];
  const known = <T>(s: T | null, c: T | null) => s === null || c === null || s === c;
  const sameNetwork =
    stored.networkName === configured.networkName &&
    toHex0x(stored.genesisForkVersion) === toHex0x(configured.genesisForkVersion) &&
    known(optHex(stored.genesisValidatorsRoot), optHex(configured.genesisValidatorsRoot)) &&
    known(stored.depositContractAddress, configured.depositContractAddress) &&
    known(stored.chainId, configured.chainId);
  if (!sameNetwork) {
    out.push({
      source: sources.network,
      clause: `${sources.network}: configured ${describeNetwork(configured, stored)} but this database belongs to ${describeNetwork(stored, configured)}`,
    });
  }
  if (toHex0x(stored.withdrawalCredentials) !== toHex0x(configured.withdrawalCredentials)) {
    out.push({
      source: sources.withdrawalCredentials,
      clause: `${sources.withdrawalCredentials}: configured ${toHex0x(configured.withdrawalCredentials)} but this database belongs to a pool with ${toHex0x(stored.withdrawalCredentials)}`,
    });
  }
  return out;
}

/** The mismatches as one line, with what to do. */
function mismatchLine(mismatches: readonly PoolIdentityMismatch[], sources: PoolIdentitySources): string {
  const which =
    mismatches.length > 1
      ? "that pool"
      : mismatches[0]?.source === sources.network
        ? "that network"
        : "those credentials";
  return `${mismatches.map((m) => m.clause).join("; ")}; use the database of ${which} or a new one`;
}

/**
 * The start-up check of every service configured with a network and withdrawal credentials:
 * on a database without an identity, record `configured` as the pool's (a concurrent first start
 * of another process is waited for, and then compared against); on one with an identity, compare.
 * Throws ERR_POOL_IDENTITY with one line naming both values of every field that differs.
 */
export async function pinPoolIdentity(
  db: Queryable,
  configured: PoolIdentity,
  sources: PoolIdentitySources = POOL_IDENTITY_ENV,
): Promise<StoredPoolIdentity> {
  let stored = await readPoolIdentity(db);
  if (stored === undefined) {
    await db.query(
      `INSERT INTO pool_identity (network_name, genesis_fork_version, genesis_validators_root,
         deposit_contract_address, chain_id, withdrawal_credentials)
       VALUES ($1, decode($2, 'hex'), decode($3, 'hex'), $4, $5, decode($6, 'hex'))
       ON CONFLICT (id) DO NOTHING`,
      [
        configured.networkName,
        hex(configured.genesisForkVersion),
        configured.genesisValidatorsRoot === null ? null : hex(configured.genesisValidatorsRoot),
        configured.depositContractAddress?.toLowerCase() ?? null,
        configured.chainId,
        hex(configured.withdrawalCredentials),
      ],
    );
    stored = await readPoolIdentity(db);
    if (stored === undefined) throw new Error("pool_identity: the row just recorded cannot be read back");
  }
  const mismatches = poolIdentityMismatches(stored, configured, sources);
  if (mismatches.length > 0) {
    throw new PoolkeeperError(STORE_ERRORS.POOL_IDENTITY, mismatchLine(mismatches, sources), {
      fields: mismatches.map((m) => m.source),
    });
  }
  return stored;
}
