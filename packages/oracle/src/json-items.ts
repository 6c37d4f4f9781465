/**
 * The items of one top-level array field of a JSON object, from a byte stream, without ever
 * holding the whole text: the Beacon API's validator list of a mainnet state
 * (`{"data":[...], ...}`) is larger than V8's maximum string length. Bytes are scanned once for
 * strings, escapes and nesting; the complete items of each chunk are parsed together with
 * JSON.parse (one call per chunk, not per item) and handed out in order, and the rest of the
 * object (the fields beside the array, small) is parsed at the end.
 */

/** Default largest item (bytes): a validator is ~400; anything far larger is not an answer to trust. */
const DEFAULT_MAX_ITEM_BYTES = 1 << 20;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

export class JsonStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonStreamError";
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Splits a JSON object's byte stream: `onItems` gets the items of the array under `field` (in
 * order, parsed, a batch at a time); `end()` returns the object's other fields. Throws
 * JsonStreamError on text that is not one object with that array (unbalanced, an item larger
 * than `maxItemBytes`, trailing bytes).
 */
export class JsonArrayStream {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** 0: before the array, 1: inside it, 2: after it. */
  private phase = 0;
  private inItem = false;
  /** Bytes of the current incomplete item (its start up to the chunk's end), across chunks. */
  private carry: Uint8Array[] = [];
  private carryBytes = 0;
  /** The object's bytes outside the array (its items replaced by nothing). */
  private outside: number[] = [];
  /** The last top-level key read (while phase 0), to know when `field`'s array begins. */
  private key: number[] = [];
  private lastKey = "";
  private items = 0;
  private done = false;

  constructor(
    private readonly field: string,
    private readonly onItems: (items: unknown[]) => void,
    private readonly maxItemBytes = DEFAULT_MAX_ITEM_BYTES,
  ) {}

  /** Items handed out so far. */
  get count(): number {
    return this.items;
  }

  push(chunk: Uint8Array): void {
    const continued = this.inItem; // the chunk begins inside an item whose start is in `carry`
    let segStart = continued ? 0 : -1; // where this chunk's part of the batch begins
    let lastEnd = -1; // end of the last complete item in this chunk
    let itemStart = -1; // start of the item begun in this chunk, if any
    for (let i = 0; i < chunk.length; i++) {
      if (this.inItem) {
        // most bytes are inside items: scanned by a tight loop, to the item's end or the chunk's
        const end = this.scanItem(chunk, i);
        if (end === -1) break;
        lastEnd = end;
        i = end - 1;
        continue;
      }
      const c = chunk[i] as number;
      if (this.inString) {
        if (this.phase !== 1) {
          if (this.depth === 1) this.keyByte(c);
          this.outside.push(c);
        }
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (this.done) {
        if (!isSpace(c)) throw new JsonStreamError("bytes after the end of the object");
        continue;
      }
      if (this.phase === 1 && this.depth === 2 && !this.inItem) {
        // between items: whitespace, commas, an item's first byte, or the array's end
        if (isSpace(c) || c === 0x2c) continue;
        if (c === RBRACKET) {
          this.phase = 2;
          this.depth = 1;
          this.outside.push(c);
          continue;
        }
        if (c !== LBRACE && c !== LBRACKET)
          throw new JsonStreamError(`${this.field}: item ${this.items} is not an object`);
        this.inItem = true;
        itemStart = i;
        if (segStart === -1) segStart = i;
        this.depth++;
        continue;
      }
      if (c === QUOTE) {
        this.inString = true;
        if (this.phase !== 1 && this.depth === 1) this.key = [];
      } else if (c === LBRACE || c === LBRACKET) {
        this.depth++;
        if (this.phase === 0 && this.depth === 2 && c === LBRACKET && this.lastKey === this.field) {
          this.phase = 1;
          this.outside.push(c);
          continue;
        }
      } else if (c === RBRACE || c === RBRACKET) {
        this.depth--;
        if (this.depth < 0) throw new JsonStreamError("unbalanced brackets");
        if (this.depth === 0) this.done = true;
      } else if (c === 0x3a && this.phase !== 1 && this.depth === 1) {
        this.lastKey = String.fromCharCode(...this.key);
      }
      if (this.phase !== 1) this.outside.push(c);
    }
    if (lastEnd !== -1) {
      const batch =
        continued && segStart === 0
          ? concat([...this.carry, chunk.subarray(0, lastEnd)])
          : chunk.subarray(segStart, lastEnd);
      this.carry = [];
      this.carryBytes = 0;
      this.emit(batch);
    }
    if (this.inItem) {
      // the item still open: begun in this chunk (after lastEnd), or in `carry` and not ended here
      const rest = itemStart !== -1 && itemStart >= lastEnd ? chunk.subarray(itemStart) : chunk;
      this.carry.push(rest.slice());
      this.carryBytes += rest.length;
      if (this.carryBytes > this.maxItemBytes)
        throw new JsonStreamError(
          `${this.field}: item ${this.items} is larger than ${this.maxItemBytes} bytes`,
        );
    }
  }

  /**
   * Inside an item from `from`: returns the index after the item's last byte (depth back at the
   * array's), or -1 when the chunk ends first (the state kept for the next chunk).
   */
  private scanItem(chunk: Uint8Array, from: number): number {
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    const n = chunk.length;
    for (let i = from; i < n; i++) {
      const c = chunk[i] as number;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === LBRACE || c === LBRACKET) depth++;
      else if (c === RBRACE || c === RBRACKET) {
        if (--depth === 2) {
          this.depth = depth;
          this.inString = false;
          this.escaped = false;
          this.inItem = false;
          return i + 1;
        }
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return -1;
  }

  private keyByte(c: number): void {
    if (c !== QUOTE && this.key.length < 64) this.key.push(c);
  }

  private emit(bytes: Uint8Array): void {
    let parsed: unknown[];
    try {
      parsed = JSON.parse(`[${this.decoder.decode(bytes)}]`) as unknown[];
    } catch (e) {
      throw new JsonStreamError(`${this.field}: items ${this.items}+: ${(e as Error).message}`);
    }
    this.items += parsed.length;
    this.onItems(parsed);
  }

  /** The object without the array's items (`field` is []). Throws when the text was incomplete. */
  end(): Record<string, unknown> {
    if (!this.done || this.inString || this.inItem)
      throw new JsonStreamError("the answer ended before its JSON object did");
    if (this.phase !== 2) throw new JsonStreamError(`no array field "${this.field}"`);
    let rest: unknown;
    try {
      rest = JSON.parse(this.decoder.decode(Uint8Array.from(this.outside)));
    } catch (e) {
      throw new JsonStreamError(`outside ${this.field}: ${(e as Error).message}`);
    }
    if (rest === null || typeof rest !== "object" || Array.isArray(rest))
      throw new JsonStreamError("not a JSON object");
    return rest as Record<string, unknown>;
  }
}

/** Reads a fetch body through a JsonArrayStream; returns the object's other fields. */
export async function readJsonArray(
  body: ReadableStream<Uint8Array>,
  field: string,
  onItems: (items: unknown[]) => void,
): Promise<Record<string, unknown>> {
  const s = new JsonArrayStream(field, onItems);
  const reader = body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    s.push(value);
  }
  return s.end();
}
