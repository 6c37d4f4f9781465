/**
 * `LODESTAR_PRESET`, in one place. Lodestar's packages read it once, when @lodestar/params is first
 * imported, and size every SSZ type by it; so a process chooses its preset before that import and
 * never changes it afterwards. Every place that chooses (beacon's `loadLodestar`, beacon-sim's
 * default, the devnet, the CLI's --preset) calls `chooseLodestarPreset`; core itself imports no
 * Lodestar package.
 */
import { ConfigError } from "./errors.js";

export const LODESTAR_PRESETS = ["mainnet", "minimal"] as const;
export type LodestarPreset = (typeof LODESTAR_PRESETS)[number];

function isPreset(v: string): v is LodestarPreset {
  return (LODESTAR_PRESETS as readonly string[]).includes(v);
}

export interface ChoosePresetOptions {
  /** The preset asked for (a flag or a setting); must agree with LODESTAR_PRESET when that is set. */
  wanted?: string | undefined;
  /** Named in errors: the flag or setting `wanted` came from (default "LODESTAR_PRESET"). */
  source?: string;
  /** Used when neither `wanted` nor LODESTAR_PRESET is given. */
  fallback?: LodestarPreset;
  /** The only preset the caller runs (the devnet: minimal); anything else is refused. */
  only?: LodestarPreset;
  /**
   * `wanted` wins over LODESTAR_PRESET: only for a caller that runs before any @lodestar import
   * (the CLI, where a flag overrides the environment).
   */
  override?: boolean;
}

/**
 * Decide the process's preset, write it to `env.LODESTAR_PRESET` (where @lodestar/params reads it)
 * and return it; a ConfigError names the source and the conflict. Call it before the first
 * @lodestar import: afterwards only a check that @lodestar/params agrees (`ACTIVE_PRESET`) can
 * tell whether it took effect.
 */
export function chooseLodestarPreset(
  opts: ChoosePresetOptions = {},
  env: Record<string, string | undefined> = process.env,
): LodestarPreset {
  const source = opts.source ?? "LODESTAR_PRESET";
  const raw = env.LODESTAR_PRESET;
  const current = raw === undefined || raw === "" ? undefined : raw;
  if (current !== undefined && !isPreset(current) && !(opts.override && opts.wanted !== undefined))
    throw new ConfigError(`LODESTAR_PRESET: expected minimal or mainnet, got "${current}"`);
  if (opts.wanted !== undefined && !isPreset(opts.wanted))
    throw new ConfigError(`${source}: expected minimal or mainnet, got "${opts.wanted}"`);
  let preset: LodestarPreset;
  if (opts.wanted !== undefined) {
    if (current !== undefined && current !== opts.wanted && opts.override !== true)
      throw new ConfigError(
        `${source}: LODESTAR_PRESET is "${current}" but "${opts.wanted}" was asked for (set LODESTAR_PRESET=${opts.wanted})`,
      );
    preset = opts.wanted;
  } else if (current !== undefined) {
    preset = current as LodestarPreset;
  } else if (opts.fallback !== undefined) {
    preset = opts.fallback;
  } else {
    throw new ConfigError(`${source}: no preset chosen (set LODESTAR_PRESET=minimal or mainnet)`);
  }
  if (opts.only !== undefined && preset !== opts.only)
    throw new ConfigError(`LODESTAR_PRESET is ${preset}; the ${source} runs the ${opts.only} preset`);
  env.LODESTAR_PRESET = preset;
  return preset;
}
