export * from "./deposit.js";
export * from "./derive.js";
export * from "./exit.js";
export * from "./mnemonic.js";
export * from "./signing.js";
export * from "./ssz.js";
export * from "./verify.js";
export * from "./withdrawal-credentials.js";
