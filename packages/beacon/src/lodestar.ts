/**
 * Lodestar's packages read `LODESTAR_PRESET` once, when they are first imported, and size every SSZ
 * type by it. So nothing in this package imports @lodestar/* statically for values: `loadLodestar`
 * sets the preset (or checks that the one already set agrees) and then imports them.
 */
import type * as LodestarApi from "@lodestar/api";
import type * as LodestarConfig from "@lodestar/config";
import type * as LodestarParams from "@lodestar/params";
import type * as LodestarTypes from "@lodestar/types";
import { BeaconError, BeaconErrorCode } from "./errors.js";

export type Preset = "mainnet" | "minimal";
export const PRESETS: readonly Preset[] = ["mainnet", "minimal"];

export interface Lodestar {
  preset: Preset;
  api: typeof LodestarApi;
  config: typeof LodestarConfig;
  params: typeof LodestarParams;
  types: typeof LodestarTypes;
}

let loaded: Lodestar | undefined;

export async function loadLodestar(preset: Preset): Promise<Lodestar> {
  if (loaded !== undefined) {
    if (loaded.preset !== preset) {
      throw new BeaconError(
        BeaconErrorCode.preset,
        `preset: Lodestar is already loaded with preset "${loaded.preset}", cannot use "${preset}" in the same process`,
      );
    }
    return loaded;
  }
  const current = process.env.LODESTAR_PRESET;
  if (current !== undefined && current !== "" && current !== preset) {
    throw new BeaconError(
      BeaconErrorCode.preset,
      `preset: LODESTAR_PRESET is "${current}" but "${preset}" was asked for (set LODESTAR_PRESET=${preset})`,
    );
  }
  process.env.LODESTAR_PRESET = preset;
  const [api, config, params, types] = await Promise.all([
    import("@lodestar/api"),
    import("@lodestar/config"),
    import("@lodestar/params"),
    import("@lodestar/types"),
  ]);
  if (params.ACTIVE_PRESET !== preset) {
    throw new BeaconError(
      BeaconErrorCode.preset,
      `preset: @lodestar/params was imported earlier with preset "${params.ACTIVE_PRESET}"; import @poolkeeper/beacon's loadLodestar first`,
    );
  }
  loaded = { preset, api, config, params, types };
  return loaded;
}
