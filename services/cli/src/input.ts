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
