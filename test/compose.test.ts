/**
 * docker-compose.yml and its scripts (deploy/): the file validates with Docker Compose itself,
 * shows the replicas the README promises, runs only commands the `poolkeeper` CLI has, and sets
 * only variables the configuration reference (docs/configuration.md) lists for that service.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT, runCli } from "./process-helpers.js";

interface ComposeService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;
const ours = Object.entries(services).filter(([, s]) => s.image === "poolkeeper");

/** Docker Compose: the plugin, else the standalone binary (.ci/run installs Debian's). */
function composeCommand(): string[] {
  if (spawnSync("docker", ["compose", "version"]).status === 0) return ["docker", "compose"];
  if (spawnSync("docker-compose", ["version"]).status === 0) return ["docker-compose"];
  throw new Error(
    "neither `docker compose` nor `docker-compose` is installed (.ci/run installs docker-compose)",
  );
}

/** The variables docs/configuration.md lists per service (its `## <service>` tables). */
function referenceVariables(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of readFileSync(join(ROOT, "docs/configuration.md"), "utf8").split("\n")) {
    const h = /^## (\S+)/.exec(line);
    if (h !== null) {
      current = new Set();
      out.set(h[1] as string, current);
    }
    const v = /^\| `([A-Z0-9_]+)`/.exec(line);
    if (v !== null && current !== undefined) current.add(v[1] as string);
  }
  return out;
}

/** Which reference section a compose service's settings belong to. */
function referenceSection(s: ComposeService): string | undefined {
  const cmd = s.command?.[0];
  if (cmd === "admin-api" || cmd === "watcher" || cmd === "oracle-member") return cmd;
  if (s.entrypoint?.[0] === "/app/deploy/compose-daemon.sh") return "operator-daemon";
  return undefined; // beacon-sim (flags only) and the one-shot scripts
}

/** Read by the scripts or by Node/Lodestar themselves, not by a service's settings. */
const NOT_SERVICE_SETTINGS = new Set(["LODESTAR_PRESET", "OPERATOR", "OPERATORS", "VETTED_LIMIT"]);

describe("docker-compose.yml", () => {
  it("validates with Docker Compose", () => {
    const [cmd, ...args] = composeCommand();
    const r = spawnSync(cmd as string, [...args, "-f", join(ROOT, "docker-compose.yml"), "config", "-q"], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("runs two admin-api and two watcher replicas on one PostgreSQL and one Redis", () => {
    const by = (cmd: string) => ours.filter(([, s]) => s.command?.[0] === cmd).map(([n]) => n);
    expect(by("admin-api")).toEqual(["admin-api-1", "admin-api-2"]);
    expect(by("watcher")).toEqual(["watcher-1", "watcher-2"]);
    const urls = (key: string) => new Set(ours.map(([, s]) => s.environment?.[key]).filter((v) => v));
    expect([...urls("DATABASE_URL")]).toEqual(["postgres://postgres@postgres:5432/poolkeeper"]);
    expect([...urls("REDIS_URL")]).toEqual(["redis://redis:6379"]);
    // the oracle members and daemons are spread over both API replicas
    expect(urls("ADMIN_API_URL")).toEqual(new Set(["http://admin-api-1:3000", "http://admin-api-2:3000"]));
  });

  it("runs only commands the poolkeeper CLI has", async () => {
    const commands = new Set(ours.map(([, s]) => s.command?.[0]).filter((c): c is string => c !== undefined));
    expect([...commands].sort()).toEqual(["admin-api", "beacon-sim", "oracle-member", "watcher"]);
    for (const c of commands) {
      const r = await runCli([c, "--help"], {});
      expect(r.code, `${c} --help: ${r.stderr}`).toBe(0);
    }
    // every flag a service passes is one its command lists
    for (const [name, s] of ours) {
      const [c, ...args] = s.command ?? [];
      if (c === undefined) continue;
      const help = (await runCli([c, "--help"], {})).stdout;
      for (const flag of args.filter((a) => a.startsWith("--")))
        expect(help, `${name}: ${c} has no ${flag}`).toContain(flag);
    }
  });

  it("sets only variables the configuration reference lists for each service", () => {
    const reference = referenceVariables();
    for (const [name, s] of ours) {
      const section = referenceSection(s);
      if (section === undefined) continue;
      const known = reference.get(section);
      expect(known, `docs/configuration.md has no section ${section}`).toBeDefined();
      const unknown = Object.keys(s.environment ?? {}).filter(
        (k) => !known?.has(k) && !NOT_SERVICE_SETTINGS.has(k) && !known?.has(k.replace(/_FILE$/, "")),
      );
      // settings every service of the image shares (x-poolkeeper) are allowed where unused
      const shared = new Set(Object.keys(services.setup?.environment ?? {}));
      expect(
        unknown.filter((k) => !shared.has(k)),
        `${name} (${section})`,
      ).toEqual([]);
    }
  });

  it("takes every secret from a file, never from the compose file", () => {
    const text = readFileSync(join(ROOT, "docker-compose.yml"), "utf8");
    expect(text).not.toMatch(/pk_[A-Za-z0-9_-]{20,}/); // an API token
    expect(text).not.toMatch(/(MNEMONIC|PASSWORD|_KEY|TOKEN)\s*:\s*["']?[^"'\s/][^\n]*$/m);
    for (const [, s] of ours)
      for (const [k, v] of Object.entries(s.environment ?? {}))
        if (/KEY|TOKEN|PASSWORD/.test(k)) expect(k.endsWith("_FILE") && v.startsWith("/shared/")).toBe(true);
  });

  it("has executable set-up scripts that parse as POSIX sh", () => {
    const scripts = new Set(
      ours
        .map(([, s]) => s.entrypoint?.[0])
        .filter((e): e is string => e?.startsWith("/app/deploy/") ?? false),
    );
    expect([...scripts].sort()).toEqual([
      "/app/deploy/compose-daemon.sh",
      "/app/deploy/compose-operators.sh",
      "/app/deploy/compose-setup.sh",
    ]);
    for (const s of scripts) {
      const file = join(ROOT, s.replace("/app/", ""));
      accessSync(file, constants.X_OK);
      execFileSync("sh", ["-n", file]);
    }
  });
});
