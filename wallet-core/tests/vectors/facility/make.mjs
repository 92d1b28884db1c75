// Makes the facility-card test vector with npm's jose (not Amanat's code):
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
const card = {
  v: 1,
  id: 'vector-counter-1',
  facility: { name: 'City Hospital', id: 'PMDC-12345-P', counter: 'OPD registration' },
  age: 'age1p52ek0kxwul8d39696jsvnld5222kfv8qz92s84655n698xweszsaxkud7',
  relay: 'https://relay.example',
  access: 86400,
  iat: 1795996800,
  exp: 1827532800,
};
const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(card)))
  .setProtectedHeader({ alg: 'EdDSA', typ: 'amanat-facility+jwt', kid: await calculateJwkThumbprint(jwk), jwk })
  .sign(key);
writeFileSync('card.txt', `AMANAT-FACILITY:${jws}\n`);
