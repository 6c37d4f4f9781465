/**
 * The package layers written in docs/architecture.md are the rule: this test parses the table
 * between `<!-- layers:begin -->` and `<!-- layers:end -->` there, and fails when a package.json
 * (`dependencies`, `devDependencies` on @poolkeeper/*) or an import in a package's src/, test/ or
 * bench/ points against it. The doc and the code cannot drift: a new package needs its row first.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DOC = join(ROOT, "docs", "architecture.md");
const SCOPE = "@poolkeeper/";
const BEGIN = "<!-- layers:begin -->";
const END = "<!-- layers:end -->";

interface LayerRule {
  layer: number;
  /** What `dependencies` and src/ may use. */
  deps: ReadonlySet<string>;
  /** What tests and benchmarks may use besides `deps` (devDependencies). */
  testDeps: ReadonlySet<string>;
}
type Layers = ReadonlyMap<string, LayerRule>;

/** Package names in a table cell: every `name` in backticks ("—" for none). */
function namesIn(cell: string): string[] {
  return [...cell.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!);
}

/**
 * The layer table of the architecture document. Throws (with the reason) when the markers, the
 * columns or a row are missing or malformed, a package is listed twice, a cell names a package
 * without a row, or an edge goes the wrong way: dependencies strictly down a layer, test-only
 * dependencies never up.
 */
function parseLayers(markdown: string): Layers {
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/architecture.md: no ${BEGIN} … ${END} block`);
  const rows = markdown
    .slice(start + BEGIN.length, end)
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("|"))
    .map((l) =>
      l
        .slice(1, l.endsWith("|") ? -1 : undefined)
        .split("|")
        .map((c) => c.trim()),
    );
  const header = rows.shift()?.map((h) => h.toLowerCase());
  const col = (name: string) => {
    const i = header?.indexOf(name) ?? -1;
    if (i < 0) throw new Error(`layers table: no "${name}" column`);
    return i;
  };
  const [cPkg, cLayer, cDeps, cTest] = [
    col("package"),
    col("layer"),
    col("may depend on"),
    col("also in tests"),
  ];
  const layers = new Map<string, LayerRule>();
  for (const r of rows) {
    if (r.every((c) => /^:?-+:?$/.test(c))) continue; // the |---| line
    const [name, ...extra] = namesIn(r[cPkg] ?? "");
    if (name === undefined || extra.length > 0)
      throw new Error(`layers table: bad package cell "${r[cPkg]}"`);
    if (layers.has(name)) throw new Error(`layers table: ${name} is listed twice`);
    const layer = Number(r[cLayer]);
    if (!Number.isInteger(layer) || layer < 0)
      throw new Error(`layers table: ${name}: bad layer "${r[cLayer]}"`);
    layers.set(name, {
      layer,
      deps: new Set(namesIn(r[cDeps] ?? "")),
      testDeps: new Set(namesIn(r[cTest] ?? "")),
    });
  }
  if (layers.size === 0) throw new Error("layers table: no rows");
  for (const [name, rule] of layers) {
    for (const [kind, set] of [
      ["may depend on", rule.deps],
      ["also in tests", rule.testDeps],
    ] as const) {
      for (const d of set) {
        const target = layers.get(d);
        if (target === undefined)
          throw new Error(`layers table: ${name} (${kind}) names ${d}, which has no row`);
        if (d === name) throw new Error(`layers table: ${name} lists itself`);
        if (kind === "may depend on" && target.layer >= rule.layer)
          throw new Error(
            `layers table: ${name} (layer ${rule.layer}) may not depend on ${d} (layer ${target.layer})`,
          );
        if (kind === "also in tests" && target.layer > rule.layer)
          throw new Error(`layers table: ${name}'s tests may not use ${d} from a higher layer`);
      }
    }
  }
  return layers;
}

/** A workspace package: its short name (without the scope) and its manifest. */
interface WorkspacePackage {
  name: string;
  /** Relative to the repository: packages/core. */
  dir: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

function short(specifier: string): string | undefined {
  if (!specifier.startsWith(SCOPE)) return undefined;
  return specifier.slice(SCOPE.length).split("/")[0];
}

/** Violations of the table by one package.json (an empty list when it keeps to it). */
function checkManifest(pkg: WorkspacePackage, layers: Layers): string[] {
  const rule = layers.get(pkg.name);
  if (rule === undefined) return [`${pkg.dir}: @poolkeeper/${pkg.name} has no row in the layers table`];
  const out: string[] = [];
  for (const [field, deps] of [
    ["dependencies", pkg.dependencies],
    ["devDependencies", pkg.devDependencies],
  ] as const) {
    for (const spec of Object.keys(deps)) {
      const d = short(spec);
      if (d === undefined) continue;
      const ok = rule.deps.has(d) || (field === "devDependencies" && rule.testDeps.has(d));
      if (!ok)
        out.push(`${pkg.dir}/package.json: ${field} has ${spec}, against the layers (${pkg.name} → ${d})`);
    }
  }
  return out;
}

/**
 * Every @poolkeeper/* package a TypeScript source names in a string literal: static and dynamic
 * imports, re-exports, and a specifier kept in a variable for a later `import(specifier)`.
 */
function importedPackages(source: string): string[] {
  const out = new Set<string>();
  for (const m of source.matchAll(/["'`]@poolkeeper\/([a-z0-9-]+)(?:\/[^"'`\s]*)?["'`]/g)) out.add(m[1]!);
  return [...out];
}

/** Relative import specifiers of a source (`from "./x.js"`, `import("../y.js")`). */
function relativeImports(source: string): string[] {
  return [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']*)["']/g)].map(
    (m) => m[1]!,
  );
}

/**
 * Violations by one file of package `pkg`: an @poolkeeper/* import the table does not allow
 * (src/: "may depend on"; test/ and bench/: both columns), or a relative import that reaches into
 * another workspace package's directory (which would bypass the table).
 */
function checkSource(
  pkg: string,
  file: string,
  source: string,
  kind: "src" | "test",
  layers: Layers,
  packageDirs: ReadonlyMap<string, string> = new Map(),
): string[] {
  const rule = layers.get(pkg);
  if (rule === undefined) return [`${file}: @poolkeeper/${pkg} has no row in the layers table`];
  const out: string[] = [];
  for (const d of importedPackages(source)) {
    if (d === pkg) continue; // a package may name itself (its tests import it by name)
    const ok = rule.deps.has(d) || (kind === "test" && rule.testDeps.has(d));
    if (!ok) out.push(`${file}: imports @poolkeeper/${d}, against the layers (${pkg} → ${d})`);
  }
  const own = packageDirs.get(pkg);
  if (own !== undefined) {
    for (const spec of relativeImports(source)) {
      const target = resolve(ROOT, dirname(file), spec);
      for (const [other, dir] of packageDirs) {
        if (other !== pkg && (target === dir || target.startsWith(dir + sep))) {
          out.push(`${file}: imports ${spec} from @poolkeeper/${other} by path; import the package instead`);
        }
      }
    }
  }
  return out;
}

function readWorkspace(): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of ["packages", "services"]) {
    for (const entry of readdirSync(join(ROOT, group)).sort()) {
      const dir = join(ROOT, group, entry);
      let text: string;
      try {
        text = readFileSync(join(dir, "package.json"), "utf8");
      } catch {
        continue;
      }
      const json = JSON.parse(text) as {
        name?: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      const name = short(json.name ?? "");
      if (name === undefined) throw new Error(`${group}/${entry}/package.json: name is not @poolkeeper/*`);
      out.push({
        name,
        dir: `${group}/${entry}`,
        dependencies: json.dependencies ?? {},
        devDependencies: json.devDependencies ?? {},
      });
    }
  }
  return out;
}

function tsFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e === "node_modules") continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (/\.(ts|mts|tsx)$/.test(e)) out.push(p);
  }
  return out;
}

const layers = parseLayers(readFileSync(DOC, "utf8"));
const workspace = readWorkspace();
const packageDirs = new Map(workspace.map((p) => [p.name, resolve(ROOT, p.dir)]));

describe("package layers (docs/architecture.md)", () => {
  it("has a row for every workspace package and a package for every row", () => {
    expect(workspace.length).toBeGreaterThan(5);
    expect([...layers.keys()].sort()).toEqual(workspace.map((p) => p.name).sort());
  });

  it("every package.json keeps to the layers", () => {
    const violations = workspace.flatMap((p) => checkManifest(p, layers));
    expect(violations).toEqual([]);
  });

  it("every @poolkeeper import in src/, test/ and bench/ keeps to the layers", () => {
    const violations: string[] = [];
    let files = 0;
    for (const p of workspace) {
      for (const [sub, kind] of [
        ["src", "src"],
        ["test", "test"],
        ["bench", "test"],
      ] as const) {
        for (const f of tsFiles(join(ROOT, p.dir, sub))) {
          files++;
          violations.push(
            ...checkSource(p.name, relative(ROOT, f), readFileSync(f, "utf8"), kind, layers, packageDirs),
          );
        }
      }
    }
    expect(files).toBeGreaterThan(50);
    expect(violations).toEqual([]);
  });

  it("every @poolkeeper import is declared in the importing package.json", () => {
    const missing: string[] = [];
    for (const p of workspace) {
      for (const [sub, declared] of [
        ["src", p.dependencies],
        ["test", { ...p.dependencies, ...p.devDependencies }],
        ["bench", { ...p.dependencies, ...p.devDependencies }],
      ] as const) {
        for (const f of tsFiles(join(ROOT, p.dir, sub))) {
          for (const d of importedPackages(readFileSync(f, "utf8"))) {
            if (d !== p.name && declared[SCOPE + d] === undefined) {
              missing.push(
                `${relative(ROOT, f)}: imports @poolkeeper/${d}, not in ${sub === "src" ? "dependencies" : "package.json"}`,
              );
            }
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });
});

describe("the layer checker", () => {
  const table = [
    "intro",
    BEGIN,
    "| Package | Layer | May depend on | Also in tests |",
    "|---|---|---|---|",
    "| `core` | 0 | — | — |",
    "| `store` | 1 | `core` | — |",
    "| `sim` | 1 | `core` | — |",
    "| `registry` | 2 | `core`, `store` | `sim` |",
    END,
  ].join("\n");
  const small = parseLayers(table);
  const pkg = (name: string, deps: string[], dev: string[] = []): WorkspacePackage => ({
    name,
    dir: `packages/${name}`,
    dependencies: Object.fromEntries(deps.map((d) => [SCOPE + d, "workspace:*"])),
    devDependencies: Object.fromEntries(dev.map((d) => [SCOPE + d, "workspace:*"])),
  });

  it("accepts the allowed edges and ignores other dependencies", () => {
    expect(
      checkManifest(
        {
          ...pkg("registry", ["core", "store"], ["sim"]),
          dependencies: { zod: "^4", [`${SCOPE}core`]: "*" },
        },
        small,
      ),
    ).toEqual([]);
  });

  it("refuses a forbidden dependency in package.json", () => {
    const v = checkManifest(pkg("store", ["core", "registry"]), small);
    expect(v).toHaveLength(1);
    expect(v[0]).toContain("@poolkeeper/registry");
    expect(v[0]).toContain("store → registry");
  });

  it("refuses a test-only package among the runtime dependencies", () => {
    expect(checkManifest(pkg("registry", ["core", "sim"]), small)).toHaveLength(1);
    expect(checkManifest(pkg("registry", ["core"], ["sim"]), small)).toEqual([]);
  });

  it("refuses a package that has no row", () => {
    expect(checkManifest(pkg("oracle", ["core"]), small)[0]).toContain("no row");
  });

  it("refuses a forbidden import in src/, static, dynamic or through a variable", () => {
    for (const source of [
      'import { x } from "@poolkeeper/registry";',
      'const m = await import("@poolkeeper/registry/sub");',
      'const specifier = "@poolkeeper/registry";\nawait import(specifier);',
      'export * from "@poolkeeper/registry";',
    ]) {
      const v = checkSource("store", "packages/store/src/x.ts", source, "src", small);
      expect(v, source).toHaveLength(1);
      expect(v[0]).toContain("store → registry");
    }
  });

  it("allows test-only imports in tests, not in src/", () => {
    const source = 'import { startSim } from "@poolkeeper/sim";';
    expect(checkSource("registry", "packages/registry/test/a.test.ts", source, "test", small)).toEqual([]);
    expect(checkSource("registry", "packages/registry/src/a.ts", source, "src", small)).toHaveLength(1);
  });

  it("refuses a relative import into another package's directory", () => {
    const dirs = new Map([
      ["store", resolve(ROOT, "packages/store")],
      ["registry", resolve(ROOT, "packages/registry")],
    ]);
    const file = resolve(ROOT, "packages/store/src/x.ts");
    // built from parts, so that .ci/check-paths.sh does not take it for a path of this file
    const intoRegistry = ["..", "..", "registry", "src", "registry.js"].join("/");
    const v = checkSource("store", file, `import { r } from "${intoRegistry}";`, "src", small, dirs);
    expect(v).toHaveLength(1);
    expect(v[0]).toContain("by path");
    expect(checkSource("store", file, 'import { s } from "./store.js";', "src", small, dirs)).toEqual([]);
  });

  it("refuses a table without markers, with an upward edge, or naming a package without a row", () => {
    expect(() => parseLayers("no table here")).toThrow(/layers:begin/);
    expect(() =>
      parseLayers(table.replace("| `store` | 1 | `core` |", "| `store` | 1 | `registry` |")),
    ).toThrow(/store \(layer 1\) may not depend on registry/);
    expect(() => parseLayers(table.replace("| `sim` | 1 | `core` |", "| `sim` | 1 | `beacon` |"))).toThrow(
      /no row/,
    );
    expect(() => parseLayers(table.replace("| `sim` | 1 |", "| `store` | 1 |"))).toThrow(/twice/);
  });
});
