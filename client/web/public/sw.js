// Nexus Canvas service worker: keeps the app shell (index.html and the hashed assets) so that a
// reload while offline still opens the editor; the document itself comes back from IndexedDB
// (y-indexeddb) and syncs when the connection returns. The API, blobs and /ws are never cached
// here (blobs carry their own immutable HTTP caching).
const CACHE = "nexus-shell-v1";

// The shell and every asset it names (the page that registers us fetched them before we existed).
async function cacheShell() {
  const cache = await caches.open(CACHE);
  const response = await fetch("/", { cache: "no-cache" });
  if (!response.ok) return;
  const html = await response.clone().text();
  const assets = [...new Set(html.match(/\/assets\/[^"'\s)]+/g) || [])];
  await cache.put("/", response);
  await cache.addAll(assets);
}

self.addEventListener("install", (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isShell(url) {
  return url.pathname === "/" || /^\/d\/[^/]+\/?$/.test(url.pathname);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && isShell(url)) {
    // Network first (a new build is picked up at once), the cached shell when offline.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put("/", copy));
          }
          return response;
        })
        .catch(() => caches.match("/").then((cached) => cached || Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith("/assets/")) {
    // Hashed names never change content: cache first.
    event.respondWith(
      caches.match(request).then(
        (cached) =>
          cached ||
          fetch(request).then((response) => {
            if (response.ok) {
              const copy = response.clone();
              caches.open(CACHE).then((cache) => cache.put(request, copy));
            }
            return response;
          }),
      ),
    );
  }
});
