import type { Command } from "commander";

/**
 * `poolkeeper tokens create|list|revoke`: bearer tokens of the admin API. A new token is printed
 * once, on stdout, and never again (only its sha256 is stored).
 */
const adminApi = () => import("@poolkeeper/admin-api");

type AdminApi = Awaited<ReturnType<typeof adminApi>>;
type Store = Awaited<ReturnType<AdminApi["openStoreFromEnv"]>>;

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const { openStoreFromEnv } = await adminApi();
  const store = await openStoreFromEnv(process.env);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function register(program: Command): void {
  const tokens = program
    .command("tokens")
    .description("Admin API bearer tokens (database: DATABASE_URL, else PGlite in POOLKEEPER_DATA_DIR)");

  tokens
    .command("create")
    .description("Create a token and print it once")
    .requiredOption("--role <role>", "admin | dao | operator")
    .option("--operator <id>", "the operator an operator token acts for")
    .option("--label <label>", "a note to recognise the token by")
    .action(async (opts: { role: string; operator?: string; label?: string }) => {
      const { createApiToken } = await adminApi();
      const { token, info } = await withStore((store) =>
        createApiToken(store, {
          role: opts.role,
          ...(opts.operator !== undefined ? { operatorId: opts.operator } : {}),
          ...(opts.label !== undefined ? { label: opts.label } : {}),
        }),
      );
      process.stderr.write(
        `created token ${info.id} (role ${info.role}${info.operatorId !== null ? `, operator ${info.operatorId}` : ""}); it is shown once, store it now:\n`,
      );
      process.stdout.write(`${token}\n`);
    });

  tokens
    .command("list")
    .description("List tokens (ids, roles, labels; never the tokens)")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }) => {
      const { listApiTokens } = await adminApi();
      const list = await withStore((store) => listApiTokens(store));
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const rows = list.map((t) =>
        [
          t.id,
          t.role,
          t.operatorId ?? "-",
          t.revokedAt === null ? "live" : `revoked ${t.revokedAt.toISOString()}`,
          t.createdAt.toISOString(),
          t.lastUsedAt?.toISOString() ?? "-",
          t.label ?? "",
        ].join("\t"),
      );
      process.stdout.write(`id\trole\toperator\tstatus\tcreated\tlast used\tlabel\n${rows.join("\n")}\n`);
    });

  tokens
    .command("revoke")
    .description("Revoke a token by id")
    .argument("<id>", "token id (see tokens list)")
    .action(async (id: string) => {
      const { revokeApiToken } = await adminApi();
      const { PoolkeeperError } = await import("@poolkeeper/core");
      const ok = await withStore((store) => revokeApiToken(store, id));
      if (!ok) throw new PoolkeeperError("ERR_NOT_FOUND", `no live token with id ${id}`);
      process.stdout.write(`revoked token ${id}\n`);
    });
}
