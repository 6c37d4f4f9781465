/** Imported first by the mainnet-preset test. */
process.env.LODESTAR_PRESET = "mainnet";

export {};
