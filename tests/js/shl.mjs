// SMART Health Links from an independent implementation (npm kill-the-clipboard),
// for the interop tests in tests/tests/all/shl.rs. The test copies this file into
// target/js, where the README's test command installed the library.
//
//   node shl.mjs resolve LINK RECIPIENT [PASSCODE|-] [EMBEDDED_LENGTH_MAX]
//     Opens LINK (shlink:/… or a viewer URL) with the library's SHLViewer over real
//     HTTP; prints {"manifest", "fhirResources"} or {"error", "message"} (exit 2).
//
//   node shl.mjs serve FLAG PASSCODE [EXPIRES_IN_SECONDS]
//     Makes an SHL of a small FHIR Bundle with the library (SHL.generate,
//     SHLManifestBuilder) and serves its manifest and files on 127.0.0.1, asking for
//     PASSCODE ("-" for none) when FLAG has P. Prints the link as its first line,
//     then one line per request it answered; stops when standard input closes.
import http from 'node:http';
import { SHL, SHLManifestBuilder, SHLViewer } from 'kill-the-clipboard';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'resolve') {
  const [link, recipient, passcode, embeddedLengthMax] = args;
  try {
    const viewer = new SHLViewer({ shlinkURI: link });
    const resolved = await viewer.resolveSHL({
      recipient,
      ...(passcode && passcode !== '-' ? { passcode } : {}),
      ...(embeddedLengthMax ? { embeddedLengthMax: Number(embeddedLengthMax) } : {}),
    });
    console.log(JSON.stringify({ manifest: resolved.manifest ?? null, fhirResources: resolved.fhirResources }));
  } catch (e) {
    console.log(JSON.stringify({ error: e.name, message: e.message }));
    process.exit(2);
  }
} else if (mode === 'serve') {
  const [flag, passcode, expiresIn] = args;
  const files = new Map();
  const server = http.createServer();
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  const shl = SHL.generate({
    baseManifestURL: `${base}/manifests/`,
    manifestPath: '/manifest.json',
    label: 'Lab results from another app',
    ...(flag ? { flag } : {}),
    ...(expiresIn ? { expirationDate: new Date(Date.now() + Number(expiresIn) * 1000) } : {}),
  });
  const builder = new SHLManifestBuilder({
    shl,
    uploadFile: async (content) => {
      const path = `file-${files.size + 1}`;
      files.set(path, content);
      return path;
    },
    getFileURL: async (path) => `${base}/files/${path}`,
    loadFile: async (path) => files.get(path),
  });
  await builder.addFHIRResource({
    content: {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'urn:uuid:1', resource: { resourceType: 'Patient', id: 'p1', name: [{ family: 'Doe', given: ['Jane'] }], birthDate: '1980-02-03' } },
        {
          fullUrl: 'urn:uuid:2',
          resource: {
            resourceType: 'Observation', id: 'o1', status: 'final',
            code: { coding: [{ system: 'http://loinc.org', code: '4548-4' }], text: 'Hemoglobin A1c' },
            subject: { reference: 'Patient/p1' }, effectiveDateTime: '2025-10-01',
            valueQuantity: { value: 6.9, unit: '%' },
          },
        },
      ],
    },
  });
  server.on('request', (req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      const url = new URL(req.url, base);
      console.log(`${req.method} ${url.pathname}`);
      const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type' };
      if (req.method === 'OPTIONS') { res.writeHead(204, cors); res.end(); return; }
      if (flag && flag.includes('U') && req.method === 'GET' && `${base}${url.pathname}` === shl.url) {
        res.writeHead(200, { 'content-type': 'application/jose', ...cors });
        res.end([...files.values()][0]);
        return;
      }
      if (req.method === 'POST' && `${base}${url.pathname}` === shl.url) {
        const request = JSON.parse(body);
        if (flag && flag.includes('P') && request.passcode !== passcode) {
          res.writeHead(401, { 'content-type': 'application/json', ...cors });
          res.end(JSON.stringify({ remainingAttempts: 5 }));
          return;
        }
        const manifest = await builder.buildManifest({ embeddedLengthMax: request.embeddedLengthMax });
        res.writeHead(200, { 'content-type': 'application/json', ...cors });
        res.end(JSON.stringify(manifest));
        return;
      }
      const file = files.get(url.pathname.replace('/files/', ''));
      if (req.method === 'GET' && file) {
        res.writeHead(200, { 'content-type': 'application/jose', ...cors });
        res.end(file);
        return;
      }
      res.writeHead(404, cors);
      res.end();
    });
  });
  console.log(shl.toURI());
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else {
  console.error('usage: node shl.mjs resolve LINK RECIPIENT [PASSCODE] | serve FLAG PASSCODE [EXPIRES_IN]');
  process.exit(64);
}
