/**
 * Lodestar's packages read `LODESTAR_PRESET` once, when they are first imported, and size every SSZ
 * type by it. So nothing in this package imports @lodestar/* statically for values: `loadLodestar`
 * sets the preset (or checks that the one already set agrees: `chooseLodestarPreset`, core), then
 * imports them and checks that @lodestar/params took it.
 */
import type * as LodestarApi from "@lodestar/api";
import type * as LodestarConfig from "@lodestar/config";
import type * as LodestarParams from "@lodestar/params";
import type * as LodestarTypes from "@lodestar/types";
import { chooseLodestarPreset, type LodestarPreset } from "@poolkeeper/core";
import { BeaconError, BeaconErrorCode } from "./errors.js";

export type Preset = LodestarPreset;
export { LODESTAR_PRESETS as PRESETS } from "@poolkeeper/core";

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
  try {
    chooseLodestarPreset({ wanted: preset, source: "preset" });
  } catch (e) {
    throw new BeaconError(BeaconErrorCode.preset, (e as Error).message);
  }
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
