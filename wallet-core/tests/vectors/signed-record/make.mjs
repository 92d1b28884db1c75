// Makes the signed-record test vector with npm's jose (not Amanat's code):
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
const prescription = {
  resourceType: 'MedicationRequest',
  status: 'active',
  intent: 'order',
  medicationCodeableConcept: {
    coding: [{ system: 'http://snomed.info/sct', code: '27658006', display: 'Amoxicillin' }],
    text: 'Amoxicillin 500 mg capsule',
  },
  subject: { display: 'Ayesha Khan' },
  authoredOn: '2026-11-30',
  requester: { display: 'Dr. Imran Rao' },
  dosageInstruction: [{ text: '1 capsule three times a day for 5 days' }],
};
const header = {
  alg: 'EdDSA',
  typ: 'amanat-record+jws',
  kid: await calculateJwkThumbprint(jwk),
  jwk,
  iat: 1795996800,
  signer: { name: 'Dr. Imran Rao', registration: 'PMDC-12345-P', registry: 'Pakistan Medical & Dental Council' },
};
const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(prescription)))
  .setProtectedHeader(header)
  .sign(key);
writeFileSync('prescription.amanat-record', `AMANAT-RECORD:${jws}\n`);
writeFileSync('provider-card.json', JSON.stringify({
  v: 1, name: 'Dr. Imran Rao', registration: 'PMDC-12345-P', key: x,
  age: 'age1p52ek0kxwul8d39696jsvnld5222kfv8qz92s84655n698xweszsaxkud7',
}, null, 2) + '\n');
