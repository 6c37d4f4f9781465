import { readFileSync } from "node:fs";
import { configReferenceMarkdown } from "@poolkeeper/core";
import { describe, expect, it } from "vitest";
import { configReferenceSections } from "../src/commands/config.js";

const REFERENCE = new URL("../../../docs/configuration.md", import.meta.url);

describe("the configuration reference (docs/configuration.md)", () => {
  it("is what the services' own settings generate (run `pnpm poolkeeper config reference > docs/configuration.md`)", async () => {
    const generated = configReferenceMarkdown(await configReferenceSections());
    expect(readFileSync(REFERENCE, "utf8")).toBe(generated);
  });

  it("describes every variable of every service", async () => {
    const undescribed = (await configReferenceSections()).flatMap((s) =>
      Object.entries(s.spec)
        .filter(([, v]) => (v.description ?? "").trim() === "")
        .map(([name]) => `${s.service}: ${name}`),
    );
    expect(undescribed).toEqual([]);
  });

  it("marks a secret as one that may come from a file and shows only its example", async () => {
    const text = configReferenceMarkdown(await configReferenceSections());
    expect(text).toContain("`WATCHER_WEBHOOK_URL` *secret* (or `WATCHER_WEBHOOK_URL_FILE`)");
    expect(text).toMatch(/\| `ORACLE_MEMBER_ID` \| yes \|/);
  });
});
