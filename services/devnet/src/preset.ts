/**
 * The devnet runs beacon-sim and the watcher on the minimal preset (8 slots per epoch). Lodestar
 * reads LODESTAR_PRESET at its first import, so this module is imported before anything else.
 */
if (process.env.LODESTAR_PRESET === undefined) process.env.LODESTAR_PRESET = "minimal";
if (process.env.LODESTAR_PRESET !== "minimal") {
  throw new Error(
    `devnet: LODESTAR_PRESET is ${process.env.LODESTAR_PRESET}; the devnet runs the minimal preset`,
  );
}
export const DEVNET_PRESET = "minimal";
