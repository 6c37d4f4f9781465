import { createHash } from "node:crypto";

/** sha256 of the parts (strings as UTF-8, numbers as 8-byte LE). */
export function hashOf(...parts: Array<string | number | Uint8Array>): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) {
    if (typeof p === "string") h.update(p, "utf8");
    else if (typeof p === "number") {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(p);
      h.update(b);
    } else h.update(p);
  }
  return new Uint8Array(h.digest());
}
