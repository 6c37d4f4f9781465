export * from "./deposit.js";
export * from "./signing.js";
export * from "./ssz.js";
export * from "./withdrawal-credentials.js";
