import type { Command } from "commander";

/** `poolkeeper admin-api [--port 3000]`: start the HTTP admin API (config from the environment). */
export function register(program: Command): void {
  program
    .command("admin-api")
    .description(
      "Start the admin HTTP API (env: POOLKEEPER_NETWORK, POOLKEEPER_WITHDRAWAL_CREDENTIALS, DATABASE_URL or POOLKEEPER_DATA_DIR, PORT, HOST, LOG_LEVEL)",
    )
    .option("--port <port>", "TCP port (default: PORT or 3000)")
    .action(async (opts: { port?: string }) => {
      const { runAdminApiProcess } = await import("@poolkeeper/admin-api");
      await runAdminApiProcess(process.env, opts.port !== undefined ? ["--port", opts.port] : []);
    });
}
