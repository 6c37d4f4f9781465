/**
 * Imported first by index.ts: @lodestar/* reads LODESTAR_PRESET when it is first imported, and the
 * sim defaults to the minimal preset (8 slots per epoch) unless the process chose one already.
 */
if (process.env.LODESTAR_PRESET === undefined || process.env.LODESTAR_PRESET === "") {
  process.env.LODESTAR_PRESET = "minimal";
}

export {};
