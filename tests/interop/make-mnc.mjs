// Issue a test My Number Card mdoc (docType org.iso.23220.1.jp.mnc) with @auth0/mdl and with
// @animo-id/mdoc, and present it in DeviceResponses with deviceSignature and with deviceMac,
// for a proximity SessionTranscript [DeviceEngagementBytes, EReaderKeyBytes, null].
//
// usage: node make-mnc.mjs OUTDIR DS.pem DS-KEY.pem
// writes: st.cbor (SessionTranscriptBytes), st-other.cbor (another session's), ereader.pem (reader ephemeral private key),
//         ereader.jwk, {auth0,animo}-{sig,mac}.cbor, expected.json (the disclosed elements);
//         animo-{sig,mac}-raw.cbor: @animo-id/mdoc's default bytes. 0.5.2 writes map heads
//         in long form (cbor-x without variableMapSize: "b9 0003" for map(3)), also inside the
//         MSO and IssuerSignedItems, against ISO/IEC 18013-5 8.1 (preferred serialization);
//         our verifier rejects them. animo-{sig,mac}.cbor are issued with cbor-x's
//         variableMapSize switched on (the fix @auth0/mdl made in 3.0.0, auth0-lab/mdl#58).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as auth0 from '@auth0/mdl';
import * as animo from '@animo-id/mdoc';
import { animoCtx } from './animo-ctx.mjs';

const [outDir, dsCertPath, dsKeyPath] = process.argv.slice(2);
if (!dsKeyPath) {
  console.error('usage: node make-mnc.mjs OUTDIR DS.pem DS-KEY.pem');
  process.exit(2);
}
const out = (name, data) => fs.writeFileSync(path.join(outDir, name), data);

const DOCTYPE = 'org.iso.23220.1.jp.mnc';
const NS_JP = 'org.iso.23220.1.jp';
const NS = 'org.iso.23220.1';
// never individual_number_unicode (mdoc.md 3.6)
const JP = {
  full_name_unicode: '番号　花子',
  birth_date_unicode: '1971年9月1日',
  sex_unicode: '女',
  resident_address_unicode: '東京都千代田区霞が関二丁目1番2号',
  local_gov_code_unicode: '13101',
  portrait: Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex'),
};
const COMMON = { sex: 2, age_over_20: true };

// --- minimal CBOR for the transcript pieces (definite lengths, preferred encoding)
const head = (major, n) =>
  n < 24 ? Buffer.from([(major << 5) | n])
    : n < 256 ? Buffer.from([(major << 5) | 24, n])
      : Buffer.from([(major << 5) | 25, n >> 8, n & 255]);
const bstr = (b) => Buffer.concat([head(2, b.length), b]);
const tstr = (s) => bstr(Buffer.from(s)).fill((3 << 5) | (bstr(Buffer.from(s))[0] & 31), 0, 1);
const tag24 = (b) => Buffer.concat([Buffer.from([0xd8, 0x18]), bstr(b)]);
const coseKey = (jwk) => // {1: 2, -1: 1, -2: x, -3: y}
  Buffer.concat([Buffer.from('a40102200121', 'hex'), bstr(Buffer.from(jwk.x, 'base64url')),
    Buffer.from([0x22]), bstr(Buffer.from(jwk.y, 'base64url'))]);

const ec = () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const device = ec(); // the credential's device key (SDeviceKey)
const edevice = ec(); // the mdoc's session key, only carried in DeviceEngagement
const reader = ec(); // EReaderKey
const devJwk = device.privateKey.export({ format: 'jwk' });
const devPubJwk = device.publicKey.export({ format: 'jwk' });
const readerJwk = reader.privateKey.export({ format: 'jwk' });
const readerPubJwk = reader.publicKey.export({ format: 'jwk' });

// DeviceEngagement {0: "1.0", 1: [1, EDeviceKeyBytes]}
const de = Buffer.concat([Buffer.from('a200', 'hex'), tstr('1.0'), Buffer.from('018201', 'hex'),
  tag24(coseKey(edevice.publicKey.export({ format: 'jwk' })))]);
const st = Buffer.concat([Buffer.from([0x83]), tag24(de), tag24(coseKey(readerPubJwk)), Buffer.from([0xf6])]);
const stBytes = tag24(st);
out('st.cbor', stBytes);
// another session: same reader key, another mdoc engagement (for the wrong-transcript cases)
const de2 = Buffer.concat([Buffer.from('a200', 'hex'), tstr('1.0'), Buffer.from('018201', 'hex'),
  tag24(coseKey(ec().publicKey.export({ format: 'jwk' })))]);
out('st-other.cbor', tag24(Buffer.concat([Buffer.from([0x83]), tag24(de2), tag24(coseKey(readerPubJwk)),
  Buffer.from([0xf6])])));
out('ereader.pem', reader.privateKey.export({ format: 'pem', type: 'pkcs8' }));
out('ereader.jwk', JSON.stringify(readerJwk));
out('expected.json', JSON.stringify({ [NS_JP]: { ...JP, portrait: JP.portrait.toString('base64') }, [NS]: COMMON }));

const dsPem = fs.readFileSync(dsCertPath, 'utf8');
const dsJwk = crypto.createPrivateKey(fs.readFileSync(dsKeyPath)).export({ format: 'jwk' });
const signed = new Date();
const validity = { signed, validFrom: signed, validUntil: new Date(signed.getTime() + 30 * 86400e3) };
const pd = {
  id: 'mnc',
  input_descriptors: [{
    id: DOCTYPE,
    format: { mso_mdoc: { alg: ['ES256'] } },
    constraints: {
      limit_disclosure: 'required',
      fields: [
        ...Object.keys(JP).map((e) => ({ path: [`$['${NS_JP}']['${e}']`], intent_to_retain: false })),
        ...Object.keys(COMMON).map((e) => ({ path: [`$['${NS}']['${e}']`], intent_to_retain: false })),
      ],
    },
  }],
};

// --- @auth0/mdl
{
  const doc = await new auth0.Document(DOCTYPE)
    .addIssuerNameSpace(NS_JP, JP)
    .addIssuerNameSpace(NS, COMMON)
    .useDigestAlgorithm('SHA-256')
    .addValidityInfo(validity)
    .addDeviceKeyInfo({ deviceKey: devPubJwk })
    .sign({ issuerPrivateKey: dsJwk, issuerCertificate: dsPem, alg: 'ES256' });
  const issued = new auth0.MDoc([doc]).encode();
  const sig = await auth0.DeviceResponse.from(issued)
    .usingPresentationDefinition(pd)
    .usingSessionTranscriptBytes(stBytes)
    .authenticateWithSignature(devJwk, 'ES256')
    .sign();
  out('auth0-sig.cbor', sig.encode());
  const mac = await auth0.DeviceResponse.from(issued)
    .usingPresentationDefinition(pd)
    .usingSessionTranscriptBytes(stBytes)
    .authenticateWithMAC(devJwk, coseKey(readerPubJwk), 'HS256')
    .sign();
  out('auth0-mac.cbor', mac.encode());
}

// --- @animo-id/mdoc (crypto through animo-ctx.mjs)
// Its bundled cbor-x reads variableMapSize from the options object it builds from internal
// defaults that do not set it, so the only switch reachable from outside is the prototype
// chain; it is set only while issuing the conformant variant.
const animoIssue = async (suffix) => {
  const doc = await new animo.Document(DOCTYPE, animoCtx)
    .addIssuerNameSpace(NS_JP, JP)
    .addIssuerNameSpace(NS, COMMON)
    .useDigestAlgorithm('SHA-256')
    .addValidityInfo(validity)
    .addDeviceKeyInfo({ deviceKey: devPubJwk })
    .sign({ issuerPrivateKey: dsJwk, issuerCertificate: dsPem, alg: 'ES256' }, animoCtx);
  const issued = new animo.MDoc([doc]).encode();
  const sig = await animo.DeviceResponse.from(issued)
    .usingPresentationDefinition(pd)
    .usingSessionTranscriptBytes(stBytes)
    .authenticateWithSignature(devJwk, 'ES256')
    .sign(animoCtx);
  out(`animo-sig${suffix}.cbor`, sig.encode());
  const mac = await animo.DeviceResponse.from(issued)
    .usingPresentationDefinition(pd)
    .usingSessionTranscriptBytes(stBytes)
    .authenticateWithMAC(devJwk, readerPubJwk, 'HS256')
    .sign(animoCtx);
  out(`animo-mac${suffix}.cbor`, mac.encode());
};
await animoIssue('-raw');
Object.defineProperty(Object.prototype, 'variableMapSize', { value: true, configurable: true, writable: true });
try {
  await animoIssue('');
} finally {
  delete Object.prototype.variableMapSize;
}
