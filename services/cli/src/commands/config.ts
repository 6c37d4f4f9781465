import type { ConfigReferenceSection } from "@poolkeeper/core";
import type { Command } from "commander";

/** Every long-running service's settings, in the order the README introduces them. */
export async function configReferenceSections(): Promise<ConfigReferenceSection[]> {
  const [
    { ADMIN_API_ENV },
    { WATCHER_ENV },
    { ORACLE_MEMBER_ENV },
    { OPERATOR_DAEMON_ENV },
    { GUARDIAN_ENV },
  ] = await Promise.all([
    import("@poolkeeper/admin-api"),
    import("@poolkeeper/watcher"),
    import("@poolkeeper/oracle-member"),
    import("@poolkeeper/operator-daemon"),
    import("@poolkeeper/guardian"),
  ]);
  return [
    { service: "admin-api", command: "pnpm poolkeeper admin-api", spec: ADMIN_API_ENV },
    { service: "watcher", command: "pnpm poolkeeper watcher", spec: WATCHER_ENV },
    { service: "oracle-member", command: "pnpm poolkeeper oracle-member", spec: ORACLE_MEMBER_ENV },
    { service: "operator-daemon", command: "pnpm poolkeeper daemon run", spec: OPERATOR_DAEMON_ENV },
    { service: "guardian", command: "pnpm poolkeeper guardian", spec: GUARDIAN_ENV },
  ];
}

/** `poolkeeper config reference`: the configuration reference as markdown (docs/configuration.md). */
export function register(program: Command): void {
  const config = program.command("config").description("The services' settings");
  config
    .command("reference")
    .description("Print the configuration reference (markdown) generated from every service's settings")
    .action(async () => {
      const { configReferenceMarkdown } = await import("@poolkeeper/core");
      process.stdout.write(configReferenceMarkdown(await configReferenceSections()));
    });
}
