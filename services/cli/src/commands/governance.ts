import { ValidationError } from "@poolkeeper/core";
import type { Command } from "commander";

/**
 * `poolkeeper governance`: a DAO member's side of governance, by hand. `keygen` writes a DAO key
 * (0600) and prints its public key (for GOVERNANCE_DAO_MEMBERS); `propose`, `approve`, `cancel`,
 * `execute` and `show` talk to the admin API (--api-url or ADMIN_API_URL; the token from
 * --token-file or ADMIN_API_TOKEN(_FILE), role dao or admin). `approve`/`cancel` fetch the
 * proposal, recompute its change hash from its kind and value (the server is not trusted for
 * it), show what is signed, sign it with the key file and post the signature; `sign` only prints
 * the signature (JSON, for posting by other means; with --change-hash and --pool-id it needs no
 * API). The key never leaves this process: it is in no output, error or request.
 */
interface ApiOpts {
  apiUrl?: string;
  tokenFile?: string;
}

function apiOptions(c: Command): Command {
  return c
    .option("--api-url <url>", "the pool's admin API (ADMIN_API_URL)")
    .option("--token-file <file>", "file holding a dao or admin API token (ADMIN_API_TOKEN_FILE)");
}

async function client(opts: ApiOpts) {
  const { ConfigError } = await import("@poolkeeper/core");
  const { readInputFile } = await import("../input.js");
  const { createApiClient } = await import("@poolkeeper/contract");
  const baseUrl = opts.apiUrl ?? process.env.ADMIN_API_URL;
  if (baseUrl === undefined || baseUrl === "")
    throw new ConfigError("--api-url: required (or ADMIN_API_URL)");
  const tokenFile = opts.tokenFile ?? process.env.ADMIN_API_TOKEN_FILE;
  const token =
    tokenFile !== undefined && tokenFile !== ""
      ? (await readInputFile(tokenFile, "--token-file")).trim()
      : process.env.ADMIN_API_TOKEN;
  if (token === undefined || token === "")
    throw new ConfigError("--token-file: required (or ADMIN_API_TOKEN_FILE / ADMIN_API_TOKEN)");
  return createApiClient({ baseUrl, token });
}

async function readKey(path: string): Promise<Uint8Array> {
  const { readInputFile } = await import("../input.js");
  const text = (await readInputFile(path, "--key-file")).trim();
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(text))
    throw new ValidationError("--key-file", `${path} does not hold a DAO key (0x and 64 hex digits)`);
  return new Uint8Array(Buffer.from(text.replace(/^0x/, ""), "hex"));
}

function proposalId(value: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(value))
    throw new ValidationError("--proposal", `must be a proposal id (a whole number from 1), got "${value}"`);
  return Number(value);
}

/** The signature of `member` over proposal `id`, its change hash recomputed here from the proposal's kind and value. */
async function signProposal(
  opts: ApiOpts & { proposal: string; keyFile: string; member: string },
  action: "approve" | "cancel",
) {
  const { changeHashOf, canonicalJson, signGovernance } = await import("@poolkeeper/governance");
  const id = proposalId(opts.proposal);
  const api = await client(opts);
  const [p, params] = await Promise.all([api.getProposal({ params: { id } }), api.getGovernanceParameters()]);
  const local = changeHashOf(p.data.kind, p.data.value);
  if (local !== p.data.changeHash)
    throw new ValidationError(
      "changeHash",
      `the API's change hash ${p.data.changeHash} is not the hash of the proposal's kind and value (${local}): not signed`,
    );
  process.stderr.write(
    `${action} proposal ${id} (${p.data.status}): ${p.data.kind} = ${canonicalJson(p.data.value)}\n` +
      `  reason: ${p.data.reason}\n  change hash ${local}, pool ${params.data.poolId}\n`,
  );
  const key = await readKey(opts.keyFile);
  return {
    api,
    id,
    sig: signGovernance(key, opts.member, action, {
      poolId: params.data.poolId,
      proposalId: id,
      changeHash: local,
    }),
  };
}

function summary(p: {
  id: number;
  kind: string;
  status: string;
  approvals: unknown[];
  quorum: number;
  executableAt: string | null;
}) {
  return `proposal ${p.id} ${p.kind}: ${p.status}, ${p.approvals.length}/${p.quorum} approvals${p.executableAt === null ? "" : `, executable at ${p.executableAt}`}\n`;
}

export function register(program: Command): void {
  const cmd = program
    .command("governance")
    .description("DAO proposals: keys, propose, approve, cancel, execute");

  cmd
    .command("keygen")
    .description("Write a new DAO signing key to a file (0600) and print its public key")
    .requiredOption("--out <file>", "where the key goes (refused if the file exists)")
    .action(async (opts: { out: string }) => {
      const { existsSync } = await import("node:fs");
      const { ConfigError } = await import("@poolkeeper/core");
      if (existsSync(opts.out)) throw new ConfigError(`--out: ${opts.out} exists; pick a new file`);
      const { writeFileAtomic } = await import("@poolkeeper/keys");
      const { daoPublicKeyOf, generateDaoKey } = await import("@poolkeeper/governance");
      const key = generateDaoKey();
      await writeFileAtomic(opts.out, `0x${Buffer.from(key).toString("hex")}\n`, {
        mode: 0o600,
        noOverwrite: true,
      });
      process.stdout.write(`${daoPublicKeyOf(key)}\n`);
    });

  apiOptions(
    cmd
      .command("propose")
      .description("Propose a change: prints the proposal's id and change hash")
      .requiredOption(
        "--kind <kind>",
        "fee, oracle.members, oracle.sanityLimits, oracle.frame, guardians, operator.add, …",
      )
      .requiredOption("--value <json>", "the new value as JSON, e.g. '{\"totalFeeBP\":800,…}'")
      .requiredOption("--reason <text>", "why"),
  ).action(async (opts: ApiOpts & { kind: string; value: string; reason: string }) => {
    let value: unknown;
    try {
      value = JSON.parse(opts.value);
    } catch {
      throw new ValidationError("--value", "is not JSON");
    }
    const p = await (await client(opts)).createProposal({
      body: { kind: opts.kind, value, reason: opts.reason },
    });
    process.stdout.write(`${p.data.id} ${p.data.changeHash}\n`);
  });

  for (const action of ["approve", "cancel"] as const) {
    apiOptions(
      cmd
        .command(action)
        .description(
          action === "approve"
            ? "Sign an approval of a proposal with a DAO key and post it"
            : "Sign a cancellation of a proposal with a DAO key and post it",
        )
        .requiredOption("--proposal <id>", "the proposal's id")
        .requiredOption("--key-file <file>", "the DAO member's key (poolkeeper governance keygen)")
        .requiredOption("--member <id>", "the member's id in GOVERNANCE_DAO_MEMBERS"),
    ).action(async (opts: ApiOpts & { proposal: string; keyFile: string; member: string }) => {
      const { api, id, sig } = await signProposal(opts, action);
      const p =
        action === "approve"
          ? await api.approveProposal({ params: { id }, body: sig })
          : await api.cancelProposal({ params: { id }, body: sig });
      process.stdout.write(summary(p.data));
    });
  }

  apiOptions(
    cmd
      .command("sign")
      .description("Print a DAO member's signature (JSON {memberId, signature}) without posting it")
      .requiredOption("--proposal <id>", "the proposal's id")
      .requiredOption("--key-file <file>", "the DAO member's key")
      .requiredOption("--member <id>", "the member's id")
      .option("--cancel", "sign a cancellation (default: an approval)")
      .option("--change-hash <hash>", "offline: the proposal's change hash (with --pool-id, no API is asked)")
      .option("--pool-id <id>", "offline: the pool id of GET /v1/governance/parameters"),
  ).action(
    async (
      opts: ApiOpts & {
        proposal: string;
        keyFile: string;
        member: string;
        cancel?: boolean;
        changeHash?: string;
        poolId?: string;
      },
    ) => {
      const action = opts.cancel === true ? "cancel" : "approve";
      let sig: { memberId: string; signature: string };
      if (opts.changeHash !== undefined || opts.poolId !== undefined) {
        const { ConfigError } = await import("@poolkeeper/core");
        if (opts.changeHash === undefined || opts.poolId === undefined)
          throw new ConfigError("--change-hash and --pool-id: give both (offline) or neither");
        const { signGovernance } = await import("@poolkeeper/governance");
        sig = signGovernance(await readKey(opts.keyFile), opts.member, action, {
          poolId: opts.poolId,
          proposalId: proposalId(opts.proposal),
          changeHash: opts.changeHash,
        });
      } else sig = (await signProposal(opts, action)).sig;
      process.stdout.write(`${JSON.stringify(sig)}\n`);
    },
  );

  apiOptions(
    cmd
      .command("execute")
      .description("Execute an approved proposal whose timelock has passed")
      .requiredOption("--proposal <id>", "the proposal's id"),
  ).action(async (opts: ApiOpts & { proposal: string }) => {
    const p = await (await client(opts)).executeProposal({ params: { id: proposalId(opts.proposal) } });
    process.stdout.write(summary(p.data));
  });

  apiOptions(
    cmd
      .command("show")
      .description("The governed parameters, or one proposal")
      .option("--proposal <id>", "one proposal, with its approvals"),
  ).action(async (opts: ApiOpts & { proposal?: string }) => {
    const api = await client(opts);
    const data =
      opts.proposal === undefined
        ? (await api.getGovernanceParameters()).data
        : (await api.getProposal({ params: { id: proposalId(opts.proposal) } })).data;
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  });
}
