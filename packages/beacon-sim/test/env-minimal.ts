/** Imported first by the tests that need the minimal preset (process.env outlives a test file in a fork). */
process.env.LODESTAR_PRESET = "minimal";

export {};
