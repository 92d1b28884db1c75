// SMART Health Cards from an independent implementation (npm kill-the-clipboard's
// SHCIssuer), for the tests in tests/tests/all/cards.rs. The test copies this file
// into target/js, where the README's test command installed the library.
//
//   node shc.mjs issue DIR BUNDLE.json ISSUER [EXPIRES_IN_SECONDS|-] [QR_CHUNK_SIZE]
//     Makes a fresh ES256 key (WebCrypto), issues a card of the FHIR Bundle in
//     BUNDLE.json as ISSUER, and writes DIR/jwks.json (the public key, named by its
//     thumbprint), DIR/card.smart-health-card and DIR/card.qr.txt (its shc:/ QR
//     texts, one a line; chunked when QR_CHUNK_SIZE is given); the card expires
//     EXPIRES_IN_SECONDS after now when given. Prints {"kid", "chunks"}.
import fs from 'node:fs';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import { SHCIssuer, deriveKidFromPublicKey } from 'kill-the-clipboard';

const [mode, dir, bundleFile, issuer, expires, chunk] = process.argv.slice(2);
if (mode !== 'issue') {
  console.error('usage: node shc.mjs issue DIR BUNDLE.json ISSUER [EXPIRES|-] [QR_CHUNK_SIZE]');
  process.exit(2);
}
const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
const publicJwk = await webcrypto.subtle.exportKey('jwk', pair.publicKey);
const privateJwk = await webcrypto.subtle.exportKey('jwk', pair.privateKey);
const kid = await deriveKidFromPublicKey(publicJwk);
const shcIssuer = new SHCIssuer({
  issuer,
  privateKey: privateJwk,
  publicKey: publicJwk,
  expirationTime: expires && expires !== '-' ? Number(expires) : null,
});
const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8'));
const card = await shcIssuer.issue(bundle);
const { kty, crv, x, y } = publicJwk;
fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [{ kty, crv, x, y, kid, use: 'sig', alg: 'ES256' }] }));
fs.writeFileSync(path.join(dir, 'card.smart-health-card'), await card.asFileContent());
const qr = card.asQRNumeric(chunk ? { maxSingleQRSize: Number(chunk), enableChunking: true } : {});
fs.writeFileSync(path.join(dir, 'card.qr.txt'), qr.join('\n') + '\n');
console.log(JSON.stringify({ kid, chunks: qr.length }));
