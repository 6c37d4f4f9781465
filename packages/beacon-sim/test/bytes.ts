/** Byte helpers of the sim's tests. */
export const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString("hex")}`;

/** 32-byte withdrawal credentials: `prefix`, 11 zero bytes, then `fill` (an address of 20 `fill` bytes). */
export const wc = (prefix: number, fill: number) => {
  const b = new Uint8Array(32).fill(fill);
  b[0] = prefix;
  b.fill(0, 1, 12);
  return b;
};
