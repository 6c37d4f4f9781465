import { API_ROLES } from "@poolkeeper/core";
import type { Command } from "commander";

/**
 * `poolkeeper tokens create|list|revoke`: bearer tokens of the admin API. A new token is printed
 * once, on stdout, and never again (only its sha256 is stored).
 *
 * On PGlite the commands open the data directory themselves, so they cannot run while another
 * process (the admin API) holds it: they stop with one line naming that process, or with `--wait`
 * say so and run as soon as it is released. There is no API route for tokens: a change made
 * around a running API on PGlite would be lost (PGlite is single-process). With DATABASE_URL they
 * run next to the API.
 */
const adminApi = () => import("@poolkeeper/admin-api");

type AdminApi = Awaited<ReturnType<typeof adminApi>>;
type Store = Awaited<ReturnType<AdminApi["openStoreFromEnv"]>>;

/** How often `--wait` looks whether the data directory is free. */
const WAIT_POLL_MS = 250;

interface WaitOpt {
  wait?: boolean;
}

async function openTokenStore(wait: boolean): Promise<Store> {
  const { openStoreFromEnv } = await adminApi();
  const { dataDirInUseMessage, isDataDirInUse } = await import("@poolkeeper/store");
  const { PoolkeeperError } = await import("@poolkeeper/core");
  let waitingFor: number | undefined;
  for (;;) {
    try {
      return await openStoreFromEnv(process.env);
    } catch (e) {
      if (!isDataDirInUse(e)) throw e;
      if (!wait) {
        throw new PoolkeeperError(
          e.code,
          `${dataDirInUseMessage(e.dataDir, e.holder)}; the tokens commands need it to themselves: stop it and run this again, or add --wait to run as soon as it stops (with DATABASE_URL both run at once)`,
          e.details,
        );
      }
      if (waitingFor !== e.holder.pid) {
        waitingFor = e.holder.pid;
        process.stderr.write(
          `waiting for process ${e.holder.pid} (${e.holder.process}) to release data directory ${e.dataDir} ...\n`,
        );
      }
      await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
    }
  }
}

async function withStore<T>(opts: WaitOpt, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openTokenStore(opts.wait === true);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const WAIT_HELP = "if another process holds the PGlite data directory, wait until it is released";

export function register(program: Command): void {
  const tokens = program
    .command("tokens")
    .description("Admin API bearer tokens (database: DATABASE_URL, else PGlite in POOLKEEPER_DATA_DIR)");

  tokens
    .command("create")
    .description("Create a token and print it once")
    .requiredOption("--role <role>", API_ROLES.join(" | "))
    .option("--operator <id>", "the operator an operator token acts for")
    .option("--label <label>", "a note to recognise the token by")
    .option("--wait", WAIT_HELP)
    .action(async (opts: { role: string; operator?: string; label?: string } & WaitOpt) => {
      const { parseId } = await import("@poolkeeper/core");
      // checked before the database is opened, with the range the API applies
      const operatorId = opts.operator === undefined ? undefined : parseId(opts.operator, "--operator");
      const { createApiToken } = await adminApi();
      const { token, info } = await withStore(opts, (store) =>
        createApiToken(store, {
          role: opts.role,
          ...(operatorId !== undefined ? { operatorId } : {}),
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
    .option("--wait", WAIT_HELP)
    .action(async (opts: { json?: boolean } & WaitOpt) => {
      const { listApiTokens } = await adminApi();
      const list = await withStore(opts, (store) => listApiTokens(store));
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
    .option("--wait", WAIT_HELP)
    .action(async (id: string, opts: WaitOpt) => {
      const { DB_BIGINT_ID_MAX, parseId, PoolkeeperError } = await import("@poolkeeper/core");
      parseId(id, "id", DB_BIGINT_ID_MAX);
      const { revokeApiToken } = await adminApi();
      const ok = await withStore(opts, (store) => revokeApiToken(store, id));
      if (!ok) throw new PoolkeeperError("ERR_NOT_FOUND", `no live token with id ${id}`);
      process.stdout.write(`revoked token ${id}\n`);
    });
}
