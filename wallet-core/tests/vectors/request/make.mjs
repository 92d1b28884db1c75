// Makes the consent-request test vector with npm's jose (not Amanat's code):
//   npm install jose@5.10.0 && node make.mjs
// The key is the Ed25519 seed of 32 bytes 0x07: a test key, never a real one.
import { createPrivateKey } from 'node:crypto';
import { CompactSign, calculateJwkThumbprint } from 'jose';
import { writeFileSync } from 'node:fs';

const seed = Buffer.alloc(32, 7);
// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
const { kty, crv, x } = key.export({ format: 'jwk' });
const jwk = { kty, crv, x };
const request = {
  v: 1,
  id: 'vector-request-1',
  from: {
    name: 'Dr. Imran Rao',
    registration: 'PMDC-12345-P',
    age: 'age1p52ek0kxwul8d39696jsvnld5222kfv8qz92s84655n698xweszsaxkud7',
  },
  types: ['DiagnosticReport', 'Prescription'],
  since: '2024-01-01',
  purpose: 'CAREMGT',
  access: 604800,
  iat: 1795996800,
  exp: 1796083200,
  relay: 'https://relay.example',
};
const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(request)))
  .setProtectedHeader({ alg: 'EdDSA', typ: 'amanat-request+jwt', kid: await calculateJwkThumbprint(jwk), jwk })
  .sign(key);
writeFileSync('request.txt', `AMANAT-REQUEST:${jws}\n`);
