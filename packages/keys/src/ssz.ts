import { ByteVectorType, ContainerType, UintBigintType } from "@chainsafe/ssz";

/**
 * The consensus-spec containers that poolkeeper signs and hashes. Field names are camelCase in
 * TypeScript (as in Lodestar) and snake_case in JSON (`jsonCase: "snake"`). Every uint64 is a
 * bigint: amounts are gwei, and epochs / validator indices can exceed 2^53 in crafted input.
 */
export const Bytes4 = new ByteVectorType(4);
export const Bytes32 = new ByteVectorType(32);
export const Bytes48 = new ByteVectorType(48);
export const Bytes96 = new ByteVectorType(96);
export const Uint64 = new UintBigintType(8);

export const DepositMessage = new ContainerType(
  { pubkey: Bytes48, withdrawalCredentials: Bytes32, amount: Uint64 },
  { typeName: "DepositMessage", jsonCase: "snake" },
);

export const DepositData = new ContainerType(
  { pubkey: Bytes48, withdrawalCredentials: Bytes32, amount: Uint64, signature: Bytes96 },
  { typeName: "DepositData", jsonCase: "snake" },
);

export const ForkData = new ContainerType(
  { currentVersion: Bytes4, genesisValidatorsRoot: Bytes32 },
  { typeName: "ForkData", jsonCase: "snake" },
);

export const SigningData = new ContainerType(
  { objectRoot: Bytes32, domain: Bytes32 },
  { typeName: "SigningData", jsonCase: "snake" },
);

export const VoluntaryExit = new ContainerType(
  { epoch: Uint64, validatorIndex: Uint64 },
  { typeName: "VoluntaryExit", jsonCase: "snake" },
);

export const SignedVoluntaryExit = new ContainerType(
  { message: VoluntaryExit, signature: Bytes96 },
  { typeName: "SignedVoluntaryExit", jsonCase: "snake" },
);

export interface DepositMessageValue {
  pubkey: Uint8Array;
  withdrawalCredentials: Uint8Array;
  amount: bigint;
}

export interface DepositDataValue extends DepositMessageValue {
  signature: Uint8Array;
}

export interface VoluntaryExitValue {
  epoch: bigint;
  validatorIndex: bigint;
}
