import {
  ADMIN_API_CLIENT_ENV,
  BEACON_ENV,
  type ConfigOf,
  type ConfigSpec,
  LODESTAR_PRESETS,
  LOG_ENV,
  METRICS_ENV,
  NETWORK_ENV,
} from "@poolkeeper/core";
import { z } from "zod";

/** An optional URL: "" (the default) is none. */
const optionalUrl = z.union([z.literal(""), z.string().url()]).transform((v) => (v === "" ? undefined : v));

/**
 * Environment of an operator daemon: the shared fragments (core settings.ts) and its own.
 * `poolkeeper daemon run --dir D` fills these from D/daemon.json (written by `daemon init`), the
 * token from D/token and the mnemonic from D/mnemonic.json; set variables win over the file.
 */
export const OPERATOR_DAEMON_ENV = {
  DAEMON_DIR: {
    schema: z.string().min(1),
    example: "/var/lib/poolkeeper/daemon",
    description: "The directory `poolkeeper daemon init` wrote (state, encrypted mnemonic, token)",
  },
  ...ADMIN_API_CLIENT_ENV,
  DAEMON_OPERATOR_ID: {
    schema: z.coerce.number().int().min(1).max(2_147_483_647),
    example: "3",
    description: "This operator's id in the pool",
  },
  DAEMON_WITHDRAWAL_CREDENTIALS: {
    schema: z.string().regex(/^0x0[12]0{22}[0-9a-f]{40}$/, "0x01/0x02 credentials, lower-case hex"),
    example: "0x010000000000000000000000…",
    description: "The pool's withdrawal credentials, as confirmed at init (checked again at start)",
  },
  DAEMON_MNEMONIC_PASSWORD: {
    schema: z.string().min(8),
    example: "…",
    secret: true,
    description: "Password of the encrypted mnemonic (better from DAEMON_MNEMONIC_PASSWORD_FILE)",
  },
  DAEMON_KEYSTORE_DIR: {
    schema: z.string().default(""),
    example: "/var/lib/teku/validator-keys",
    default: "",
    description:
      "Where keystores go for the validator client: keys/*.json + passwords/*.txt (Teku's layout); empty with a Keymanager URL",
  },
  DAEMON_KEYMANAGER_URL: {
    schema: optionalUrl,
    example: "http://127.0.0.1:7500",
    default: "",
    description: "A running validator client's Keymanager API: keystores are imported there instead",
  },
  DAEMON_KEYMANAGER_TOKEN: {
    schema: z.string().default(""),
    example: "api-token-0x…",
    default: "",
    secret: true,
    description: "The Keymanager API's bearer token",
  },
  DAEMON_EXIT_SIGNER: {
    schema: z.enum(["mnemonic", "keymanager", "none"]),
    example: "mnemonic",
    default: "mnemonic",
    description:
      "Who signs voluntary exits: the daemon (keys from its mnemonic), the Keymanager API, or none (exit requests are not followed: the operator handles them elsewhere, e.g. Lido's validator-ejector with pre-signed exits)",
  },
  DAEMON_LOW_WATER: {
    schema: z.coerce.number().int().min(0).max(100_000),
    example: "50",
    default: "50",
    description: "Keep at least this many uploaded, not-yet-deposited keys",
  },
  DAEMON_BATCH_SIZE: {
    schema: z.coerce.number().int().min(1).max(10_000),
    example: "50",
    default: "50",
    description: "Keys derived and uploaded per top-up",
  },
  DAEMON_KEYSTORE_KDF: {
    schema: z.enum(["pbkdf2", "scrypt"]),
    example: "pbkdf2",
    default: "pbkdf2",
    description: "KDF of the validator keystores (pbkdf2 loads faster in validator clients)",
  },
  DAEMON_KDF_COST: {
    schema: z.coerce.number().int().min(0),
    example: "262144",
    default: "0",
    description: "KDF cost of the keystores (pbkdf2 c or scrypt n; 0: the EIP-2335 default)",
  },
  DAEMON_POLL_SECONDS: {
    schema: z.coerce.number().min(0.05).max(3600),
    example: "12",
    default: "12",
    description: "How often the supply is checked and exiting validators are looked at",
  },
  BEACON_URLS: {
    ...BEACON_ENV.BEACON_URLS,
    schema: z.union([z.literal("").transform(() => [] as string[]), BEACON_ENV.BEACON_URLS.schema]),
    default: "",
    description: "Beacon nodes exits are submitted to (none: exit requests are reported failed)",
  },
  DAEMON_PRESET: {
    schema: z.enum(LODESTAR_PRESETS),
    example: "mainnet",
    default: "mainnet",
    description: "Consensus preset of the beacon nodes (minimal for beacon-sim and devnets)",
  },
  ...NETWORK_ENV,
  ...METRICS_ENV,
  ...LOG_ENV,
} satisfies ConfigSpec;

export type OperatorDaemonSettings = ConfigOf<typeof OPERATOR_DAEMON_ENV>;
