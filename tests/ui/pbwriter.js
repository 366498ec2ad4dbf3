// A protobuf writer for the UI tests, independent of the modules under test (node/ui/proto.js):
// the tests build records with it and check that the browser's decoder reads them back.

export const utf8 = new TextEncoder();

export function concat(...parts) {
  const flat = parts.flat(Infinity).filter(Boolean);
  const out = new Uint8Array(flat.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of flat) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function varint(n) {
  let v = BigInt.asUintN(64, BigInt(n));
  const out = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

export const tag = (no, wire) => varint((no << 3) | wire);
export const len = (no, bytes) => concat(tag(no, 2), varint(bytes.length), bytes);
export const str = (no, s) => (s ? len(no, utf8.encode(s)) : null);
export const uint = (no, n) => (n ? concat(tag(no, 0), varint(n)) : null);
export const msg = (no, ...parts) => len(no, concat(parts));
