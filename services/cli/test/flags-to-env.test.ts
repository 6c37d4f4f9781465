import { describe, expect, it } from "vitest";
import { flagsToEnv } from "../src/input.js";

describe("flagsToEnv", () => {
  it("sets each given flag's variable, joins a repeated flag, keeps the rest and leaves the base alone", () => {
    const base = { BEACON_URLS: "http://old", LOG_LEVEL: "info", METRICS_PORT: "9464" };
    const env = flagsToEnv(
      { beaconUrl: ["http://a", "http://b"], metricsPort: "0", preset: undefined, yes: true },
      { beaconUrl: "BEACON_URLS", metricsPort: "METRICS_PORT", preset: "X_PRESET", yes: "X_YES" },
      base,
    );
    expect(env).toEqual({ BEACON_URLS: "http://a,http://b", LOG_LEVEL: "info", METRICS_PORT: "0" });
    expect(base.BEACON_URLS).toBe("http://old");
  });
});
