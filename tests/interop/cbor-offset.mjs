// Print the byte offset of the content of the CBOR item at a path (map keys as text, array
// indices as numbers) in a file: for byte/text strings the first content byte, otherwise the
// head. Reads heads only (definite lengths); used by the tests to flip bytes at exact places.
// usage: node cbor-offset.mjs FILE documents 0 issuerSigned issuerAuth 3
import fs from 'node:fs';

const [file, ...path] = process.argv.slice(2);
const buf = fs.readFileSync(file);
const headAt = (i) => {
  const ib = buf[i];
  const ai = ib & 31;
  const w = ai < 24 ? 0 : ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : -1;
  if (w < 0) throw new Error(`unsupported head at ${i}`);
  const n = w === 0 ? ai : w === 8 ? Number(buf.readBigUInt64BE(i + 1)) : buf.readUIntBE(i + 1, w);
  return { major: ib >> 5, n, body: i + 1 + w };
};
const skip = (i) => {
  const h = headAt(i);
  if (h.major === 2 || h.major === 3) return h.body + h.n;
  if (h.major === 4 || h.major === 5) {
    let j = h.body;
    for (let k = 0; k < (h.major === 5 ? 2 : 1) * h.n; k++) j = skip(j);
    return j;
  }
  if (h.major === 6) return skip(h.body);
  return h.major === 7 ? h.body : h.body; // ints and simple values: head only
};
let i = 0;
for (const step of path) {
  const h = headAt(i);
  if (h.major === 4) {
    let j = h.body;
    for (let k = 0; k < Number(step); k++) j = skip(j);
    i = j;
  } else if (h.major === 5) {
    let j = h.body;
    let found = -1;
    for (let k = 0; k < h.n && found < 0; k++) {
      const kh = headAt(j);
      const key = kh.major === 3 ? buf.subarray(kh.body, kh.body + kh.n).toString() : null;
      j = skip(j);
      if (key === step) found = j;
      else j = skip(j);
    }
    if (found < 0) throw new Error(`no key ${step}`);
    i = found;
  } else throw new Error(`cannot step into major type ${h.major} at ${i}`);
}
const h = headAt(i);
console.log(h.major === 2 || h.major === 3 ? h.body : i);
