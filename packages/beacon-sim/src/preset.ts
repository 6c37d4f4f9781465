/**
 * Imported first by index.ts: @lodestar/* reads LODESTAR_PRESET when it is first imported, and the
 * sim defaults to the minimal preset (8 slots per epoch) unless the process chose one already
 * (`chooseLodestarPreset`, core: the one place that decides the preset).
 */
import { chooseLodestarPreset } from "@poolkeeper/core";

chooseLodestarPreset({ fallback: "minimal" });
