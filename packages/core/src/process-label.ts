import { relative } from "node:path";

let label: string | undefined;

/**
 * Name this process for others: the lock of a data directory it opens records it, so that a
 * second opener is told "in use by process 123 (poolkeeper admin-api)". The CLI sets
 * "poolkeeper <command>"; without it, "node <script>".
 */
export function setProcessLabel(value: string): void {
  label = value;
}

export function processLabel(): string {
  if (label !== undefined) return label;
  const script = process.argv[1];
  if (script === undefined) return "node";
  const rel = relative(process.cwd(), script);
  return `node ${rel.startsWith("..") ? script : rel}`;
}
