// DeviceResponse verifications per second with the JavaScript verifiers (bench/bench-mdoc.sh):
//   node bench/mdoc-verify-js.mjs auth0|animo IACA.pem ST.cbor READER.pem|- SECONDS RESPONSE.cbor
// Uses tests/interop/node_modules (npm ci --prefix tests/interop). Trust anchors and reader
// key are loaded once; every iteration is one whole Verifier call on the same bytes, which
// throws on any failed check. @animo-id/mdoc gets its crypto from tests/interop/animo-ctx.mjs
// (node:crypto). Prints "verifications=N seconds=S per_s=R" like mdoc-verify-loop.
// Neither verifier takes a verification time but the clock (@animo-id/mdoc takes `now` for
// the MSO, not for the certificates): run it under faketime for old vectors.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { animoCtx } from '../tests/interop/animo-ctx.mjs';

const require = createRequire(new URL('../tests/interop/package.json', import.meta.url));
const [impl, iacaPath, stPath, readerPath, secondsArg, respPath] = process.argv.slice(2);
const seconds = Number(secondsArg);
if (!respPath || !['auth0', 'animo'].includes(impl) || !(seconds > 0 && seconds <= 600)) {
  console.error('usage: mdoc-verify-js.mjs auth0|animo IACA.pem ST.cbor READER.pem|- SECONDS RESPONSE.cbor');
  process.exit(2);
}
const iacaPem = fs.readFileSync(iacaPath, 'utf8');
const st = new Uint8Array(fs.readFileSync(stPath));
const resp = new Uint8Array(fs.readFileSync(respPath));
const readerJwk = readerPath === '-' ? undefined
  : crypto.createPrivateKey(fs.readFileSync(readerPath)).export({ format: 'jwk' });

let verifyOnce;
if (impl === 'auth0') {
  const { Verifier } = require('@auth0/mdl');
  const verifier = new Verifier([iacaPem]);
  let ephemeralReaderKey;
  if (readerJwk) { // a COSE_Key with d: {1: 2, -1: 1, -2: x, -3: y, -4: d}
    const b = (s) => Buffer.concat([Buffer.from([0x58, 0x20]), Buffer.from(s, 'base64url')]);
    ephemeralReaderKey = Buffer.concat([Buffer.from('a50102200121', 'hex'), b(readerJwk.x),
      Buffer.from([0x22]), b(readerJwk.y), Buffer.from([0x23]), b(readerJwk.d)]);
  }
  verifyOnce = () => verifier.verify(resp, { encodedSessionTranscript: st, ephemeralReaderKey });
} else {
  const { Verifier } = require('@animo-id/mdoc');
  const verifier = new Verifier();
  const trustedCertificates = [new Uint8Array(new crypto.X509Certificate(iacaPem).raw)];
  verifyOnce = () => verifier.verifyDeviceResponse({
    encodedDeviceResponse: resp, encodedSessionTranscript: st, ephemeralReaderKey: readerJwk,
    trustedCertificates, now: new Date(),
  }, animoCtx);
}

const t0 = performance.now();
let n = 0;
let t = 0;
try {
  do {
    const mdoc = await verifyOnce();
    if (!mdoc.documents?.length) throw new Error('no documents');
    n++;
    t = (performance.now() - t0) / 1000;
  } while (n < 20 || t < seconds);
} catch (e) {
  console.error(`mdoc-verify-js ${impl}: FAILED: ${e.message}`);
  process.exit(1);
}
console.log(`verifications=${n} seconds=${t.toFixed(3)} per_s=${(n / t).toFixed(1)}`);
