/**
 * The devnet runs beacon-sim and the watcher on the minimal preset (8 slots per epoch). Lodestar
 * reads LODESTAR_PRESET at its first import, so this module is imported before anything else
 * (index.ts) and chooses it (`chooseLodestarPreset`, core), or refuses another one.
 */
import { chooseLodestarPreset } from "@poolkeeper/core";

export const DEVNET_PRESET = chooseLodestarPreset({ fallback: "minimal", only: "minimal", source: "devnet" });
