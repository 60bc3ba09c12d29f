// Herdwatch Field's service worker (scope /field). It caches the app shell so the app
// opens with no network, across reloads and restarts. Records are not here: they are in
// IndexedDB, which a new version of this worker never touches.
const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const CACHE = `herdwatch-field-${VERSION}`;
const PAGE_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("herdwatch-field-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function withTimeout(promise, ms) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms))]);
}

// The page: the network first (an update shows at once), the cached copy when the
// server cannot be reached or is too slow.
async function page(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(fetch(request), PAGE_TIMEOUT_MS);
    if (response.ok) {
      await cache.put("/field", response.clone());
      return response;
    }
    return (await cache.match("/field")) || response; // a proxy's 502 is no page either
  } catch (err) {
    const cached = await cache.match("/field");
    if (cached) return cached;
    throw err;
  }
}

// Scripts, styles, catalogues and icons: from the cache of this version.
async function asset(request) {
  const cached = await caches.match(request, { ignoreSearch: true, cacheName: CACHE });
  return cached || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/field" && event.request.mode === "navigate") {
    event.respondWith(page(event.request));
  } else if (url.pathname.startsWith("/field/") && url.pathname !== "/field/sw.js") {
    event.respondWith(asset(event.request));
  }
});
