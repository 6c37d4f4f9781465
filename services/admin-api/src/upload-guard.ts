import { Transform, type TransformCallback } from "node:stream";
import { PoolkeeperError } from "@poolkeeper/core";

/**
 * Bounds on the work one key upload can cause before its body is parsed: a byte limit sized to
 * the largest valid upload, an entry count checked while the body streams in, one upload at a
 * time per operator, and a per-token rate limit (see routes/keys.ts).
 */

/** One deposit_data.json entry at its largest valid size, written with 2-space indentation. */
export function maxEntryBytes(maximalEntry: Record<string, unknown>): number {
  // `[\n  {...}\n]` holds one entry; each further entry adds its text and `,\n`.
  return Buffer.byteLength(JSON.stringify([maximalEntry], null, 2)) + 2;
}

/** Body limit of an upload of `maxEntries` maximal entries (with room for the brackets). */
export function uploadBodyLimit(maximalEntry: Record<string, unknown>, maxEntries: number): number {
  return maxEntries * maxEntryBytes(maximalEntry) + 1024;
}

export class PayloadTooLargeError extends PoolkeeperError {
  constructor(message: string, details: Record<string, unknown>) {
    super("ERR_PAYLOAD_TOO_LARGE", message, { field: "body", ...details });
    this.name = "PayloadTooLargeError";
  }
}

/** The body is refused while it streams in (before JSON.parse): too many entries or too deep. */
export class EntryCounterError extends PoolkeeperError {
  /** fastify keeps a status of 400 or more on errors of the body stream. */
  readonly statusCode: number;
  constructor(code: string, message: string, status: number, details: Record<string, unknown>) {
    super(code, message, { field: "body", ...details });
    this.name = "EntryCounterError";
    this.statusCode = status;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Passes the body through unchanged while counting the elements of the top-level JSON array (the
 * commas outside strings at depth 1) and the nesting depth; fails the stream as soon as there are
 * more than `maxEntries` elements or the nesting is deeper than `maxDepth`. Scans bytes: every byte
 * of a multi-byte UTF-8 character is >= 0x80, so none is taken for a quote or a bracket.
 */
export class JsonEntryCounter extends Transform {
  #depth = 0;
  #inString = false;
  #escaped = false;
  #commas = 0;
  readonly #maxEntries: number;
  readonly #maxDepth: number;

  constructor(maxEntries: number, maxDepth: number) {
    super();
    this.#maxEntries = maxEntries;
    this.#maxDepth = maxDepth;
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    const err = this.#scan(buf);
    if (err !== undefined) {
      cb(err);
      return;
    }
    cb(null, buf);
  }

  #scan(buf: Buffer): EntryCounterError | undefined {
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i]!;
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === BACKSLASH) this.#escaped = true;
        else if (c === QUOTE) this.#inString = false;
        continue;
      }
      if (c === QUOTE) this.#inString = true;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (++this.#depth > this.#maxDepth) {
          return new EntryCounterError(
            "ERR_VALIDATION",
            "body: must be an array of flat deposit_data objects (nested too deeply)",
            400,
            { reason: "nested too deeply", maxDepth: this.#maxDepth },
          );
        }
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        if (--this.#depth < 0) {
          return new EntryCounterError("ERR_VALIDATION", "body: is not valid JSON", 400, {
            reason: "unbalanced brackets",
          });
        }
      } else if (c === COMMA && this.#depth === 1 && ++this.#commas >= this.#maxEntries) {
        return new EntryCounterError(
          "ERR_PAYLOAD_TOO_LARGE",
          `body: more than ${this.#maxEntries} entries (upload at most ${this.#maxEntries} keys per request)`,
          413,
          { reason: "too many entries", maxEntries: this.#maxEntries },
        );
      }
    }
    return undefined;
  }
}

/** At most one running upload per key (the operator id); a second one is refused, not queued. */
export class UploadGate {
  readonly #held = new Set<string>();

  /** A release function (idempotent), or undefined when an upload for `key` is running. */
  tryAcquire(key: string): (() => void) | undefined {
    if (this.#held.has(key)) return undefined;
    this.#held.add(key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#held.delete(key);
    };
  }

  get size(): number {
    return this.#held.size;
  }
}
