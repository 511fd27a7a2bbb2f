// The crypto / COSE / X.509 callbacks @animo-id/mdoc needs (it ships none), on node:crypto.
import crypto from 'node:crypto';

const HASH = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const SIG = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };

const jwkKey = (jwk) =>
  jwk.d ? crypto.createPrivateKey({ key: jwk, format: 'jwk' }) : crypto.createPublicKey({ key: jwk, format: 'jwk' });
const x509 = (der) => new crypto.X509Certificate(Buffer.from(der));

export const animoCtx = {
  crypto: {
    random: (n) => new Uint8Array(crypto.randomBytes(n)),
    digest: ({ digestAlgorithm, bytes }) =>
      new Uint8Array(crypto.createHash(HASH[digestAlgorithm]).update(bytes).digest()),
    // privateKey: raw d; publicKey: 04 || x || y (SEC1)
    calculateEphemeralMacKeyJwk: ({ privateKey, publicKey, sessionTranscriptBytes }) => {
      const ecdh = crypto.createECDH('prime256v1');
      ecdh.setPrivateKey(Buffer.from(privateKey));
      const z = ecdh.computeSecret(Buffer.from(publicKey));
      const salt = crypto.createHash('sha256').update(sessionTranscriptBytes).digest();
      const k = Buffer.from(crypto.hkdfSync('sha256', z, salt, 'EMacKey', 32));
      return { kty: 'oct', k: k.toString('base64url') };
    },
  },
  cose: {
    sign1: {
      sign: ({ sign1, jwk }) => {
        const { data, alg } = sign1.getRawSigningData();
        return new Uint8Array(crypto.sign(SIG[alg], data, { key: jwkKey(jwk), dsaEncoding: 'ieee-p1363' }));
      },
      verify: ({ sign1, jwk, options }) => {
        const { data, alg, signature } = sign1.getRawVerificationData(options);
        return crypto.verify(SIG[alg], data, { key: jwkKey(jwk), dsaEncoding: 'ieee-p1363' }, signature);
      },
    },
    mac0: {
      sign: ({ mac0, jwk }) => {
        const { data } = mac0.getRawSigningData();
        return new Uint8Array(crypto.createHmac('sha256', Buffer.from(jwk.k, 'base64url')).update(data).digest());
      },
      verify: ({ mac0, jwk, options }) => {
        const { data, signature } = mac0.getRawVerificationData(options);
        const t = crypto.createHmac('sha256', Buffer.from(jwk.k, 'base64url')).update(data).digest();
        return t.length === signature.length && crypto.timingSafeEqual(t, Buffer.from(signature));
      },
    },
  },
  x509: {
    getIssuerNameField: ({ certificate, field }) =>
      x509(certificate)
        .issuer.split('\n')
        .filter((l) => l.startsWith(field + '='))
        .map((l) => l.slice(field.length + 1)),
    getPublicKey: ({ certificate }) => x509(certificate).publicKey.export({ format: 'jwk' }),
    validateCertificateChain: ({ trustedCertificates, x5chain }) => {
      const now = Date.now();
      const chain = x5chain.map(x509);
      const anchors = trustedCertificates.map(x509);
      const valid = (c) => now >= Date.parse(c.validFrom) && now <= Date.parse(c.validTo);
      for (let i = 0; i < chain.length; i++) {
        if (!valid(chain[i])) throw new Error(`certificate ${i} not valid now`);
        const next = chain[i + 1];
        if (next && !(chain[i].checkIssued(next) && chain[i].verify(next.publicKey)))
          throw new Error(`certificate ${i} not issued by ${i + 1}`);
      }
      const last = chain[chain.length - 1];
      if (!anchors.some((a) => valid(a) && last.checkIssued(a) && last.verify(a.publicKey)))
        throw new Error('no trusted IACA issued the chain');
    },
    getCertificateData: ({ certificate }) => {
      const c = x509(certificate);
      return {
        issuerName: c.issuer,
        subjectName: c.subject,
        serialNumber: c.serialNumber,
        thumbprint: c.fingerprint256,
        notBefore: new Date(c.validFrom),
        notAfter: new Date(c.validTo),
        pem: c.toString(),
      };
    },
  },
};
