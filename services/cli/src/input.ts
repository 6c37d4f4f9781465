import { readFile } from "node:fs/promises";
import { ValidationError } from "@poolkeeper/core";

/** Read a file named by a flag; an unreadable file is one error naming the flag (never the content). */
export async function readInputFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new ValidationError(
      flag,
      `${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

/** A password file holds the password, optionally followed by one line break. */
export function passwordFromFile(text: string): string {
  return text.replace(/\r?\n$/, "");
}

/**
 * A service command's flags onto its environment, so that a flag and its variable go through the
 * same settings check: each given flag (commander's camel-case option name) sets its variable, a
 * repeated flag joined with commas; every other variable of `base` stays.
 */
export function flagsToEnv(
  opts: Record<string, string | string[] | boolean | undefined>,
  variables: Record<string, string>,
  base: Record<string, string | undefined> = process.env,
): Record<string, string | undefined> {
  const env = { ...base };
  for (const [flag, name] of Object.entries(variables)) {
    const v = opts[flag];
    if (typeof v === "string") env[name] = v;
    else if (Array.isArray(v)) env[name] = v.join(",");
  }
  return env;
}
