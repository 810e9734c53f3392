// Aisle's service worker ({{ version }}): when a page cannot be loaded for the network,
// the tablet shows Aisle's offline page instead of the browser's error page. Only page
// loads are handled; a page's own requests (htmx, downloads) pass untouched, and
// nothing else is kept.
"use strict";
const CACHE = "aisle-offline-{{ version }}";
const OFFLINE = "{{ offline_url|escapejs }}";
const KEPT = [OFFLINE, "{{ css|escapejs }}"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(KEPT)).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names.filter((n) => n.startsWith("aisle-") && n !== CACHE).map((n) => caches.delete(n)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.mode !== "navigate") {
    if (request.method === "GET" && KEPT.includes(new URL(request.url).pathname)) {
      event.respondWith(fetch(request).catch(() => caches.match(request)));
    }
    return;
  }
  event.respondWith(
    fetch(request).catch(() => caches.match(OFFLINE).then((page) => page || Response.error())),
  );
});
