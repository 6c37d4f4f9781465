import { readFileSync } from "node:fs";
import type { z } from "zod";
import { ConfigError } from "./errors.js";

/**
 * Config is read variable by variable from the environment. Each variable has a zod schema and an
 * example that is shown when it is missing or wrong. A secret variable `X` may instead be given as
 * `X_FILE` (a path, as container secrets are mounted); its value never appears in an error.
 */
export interface VarSpec<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** An example value, shown in errors: `POOLKEEPER_NETWORK=hoodi`. */
  example: string;
  description?: string;
  /** Secret values can come from `NAME_FILE` and are never echoed. */
  secret?: boolean;
  /** Used when neither NAME nor NAME_FILE is set (a string, parsed by the schema like env input). */
  default?: string;
}

export type ConfigSpec = Record<string, VarSpec>;
export type ConfigOf<S extends ConfigSpec> = { [K in keyof S]: z.output<S[K]["schema"]> };

export type Env = Record<string, string | undefined>;

function readSecretFile(name: string, path: string): string {
  try {
    return readFileSync(path, "utf8").replace(/\r?\n$/, "");
  } catch (e) {
    throw new ConfigError(
      `${name}_FILE: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

/** Validate every variable; on failure throw one ConfigError listing each bad variable, on one line. */
export function loadConfig<S extends ConfigSpec>(spec: S, env: Env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, v] of Object.entries(spec)) {
    let raw = env[name];
    const file = env[`${name}_FILE`];
    try {
      if (v.secret && file !== undefined && file !== "") {
        if (raw !== undefined && raw !== "") {
          problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
          continue;
        }
        raw = readSecretFile(name, file);
      }
    } catch (e) {
      problems.push((e as Error).message);
      continue;
    }
    if (raw === undefined || raw === "") raw = v.default;
    const parsed = v.schema.safeParse(raw);
    if (parsed.success) {
      out[name] = parsed.data;
    } else {
      const reason =
        raw === undefined
          ? "is required"
          : v.secret
            ? "is invalid"
            : `"${raw}" is invalid: ${parsed.error.issues[0]?.message ?? "bad value"}`;
      const hint = v.secret ? `(set ${name} or ${name}_FILE)` : `(example: ${name}=${v.example})`;
      problems.push(`${name}: ${reason} ${hint}`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`, {
      variables: problems.map((p) => p.split(":")[0]),
    });
  }
  return out as ConfigOf<S>;
}

/**
 * A setting given as a command-line flag (the devnet's `--redis-url`): checked by the same schema as
 * its variable (one rule), the variable's default when absent; a ConfigError names the flag, the
 * reason and an example. A secret's value is never echoed.
 */
export function parseFlag<V extends VarSpec>(
  spec: V,
  flag: string,
  value: string | undefined,
): z.output<V["schema"]> {
  const raw = value === undefined || value === "" ? spec.default : value;
  const parsed = spec.schema.safeParse(raw);
  if (parsed.success) return parsed.data as z.output<V["schema"]>;
  const reason = parsed.error.issues[0]?.message ?? "bad value";
  const shown = raw === undefined ? "is required" : spec.secret ? reason : `"${raw}" is invalid: ${reason}`;
  throw new ConfigError(`${flag}: ${shown} (example: ${flag} ${spec.example})`);
}

/**
 * A list of `id=0xBLS_PUBLIC_KEY` entries, comma-separated (ORACLE_MEMBERS, DEPOSIT_GUARDIANS):
 * ids as given, keys lower-cased; a ConfigError naming `variable` and the entry otherwise.
 */
export function parseIdPublicKeys(value: string, variable: string): Array<{ id: string; publicKey: string }> {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((entry, i) => {
      const eq = entry.indexOf("=");
      if (eq <= 0) throw new ConfigError(`${variable}: entry ${i + 1} is not id=0xPUBKEY`);
      return { id: entry.slice(0, eq), publicKey: entry.slice(eq + 1).toLowerCase() };
    });
}
