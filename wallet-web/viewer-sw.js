// The share viewer's service worker: once the viewer has been opened, it
// opens offline shares with no network at all (a clinic without signal).
//
// It keeps the viewer itself (its page and Trunk's hashed JS, wasm and CSS)
// and nothing else: never a share from a relay (/v1/…), never anything of
// another origin, not the page for SMART Health Links (shl.html, which needs
// the network for every link anyway). Shares ride in the address's fragment, which no request
// carries, so nothing it stores holds a patient's data.
const CACHE = "amanat-viewer-v1";

// The page and the files it names, read from the page itself (their names
// carry Trunk's content hash, so a new build is a new set).
async function fetchViewer() {
  const page = await fetch("./", { cache: "no-cache" });
  if (!page.ok) throw new Error("the viewer's page answered " + page.status);
  const text = await page.clone().text();
  const files = [...text.matchAll(/(?:href|from|module_or_path:)\s*=?\s*['"](\.\/[^'"]+)['"]/g)].map((m) => m[1]);
  const cache = await caches.open(CACHE);
  await cache.put("./", page);
  await cache.addAll([...new Set(files)]);
  for (const key of await cache.keys()) {
    const path = new URL(key.url).pathname.split("/").pop();
    if (path && !files.some((f) => f.endsWith("/" + path))) await cache.delete(key);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(fetchViewer().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const scope = new URL(self.registration.scope);
  if (
    event.request.method !== "GET" ||
    url.origin !== scope.origin ||
    url.pathname.includes("/v1/") ||
    url.pathname.endsWith("/shl.html")
  ) {
    return;
  }
  const isPage = event.request.mode === "navigate";
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      if (isPage) {
        // The newest page when the network answers; the kept one when it does not.
        try {
          const fresh = await fetch(event.request, { cache: "no-cache" });
          if (fresh.ok) {
            event.waitUntil(fetchViewer().catch(() => {}));
            return fresh;
          }
        } catch (_) {}
        return (await cache.match("./")) || fetch(event.request);
      }
      return (await cache.match(event.request, { ignoreSearch: true })) || fetch(event.request);
    })(),
  );
});
