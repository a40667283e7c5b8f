// FairScreen service worker: makes the site work offline.
//
// Install: caches the app shell (page, JS, the page's wasm with the CPU backend, CSS), the build's
// manifest and asset indexes and the default model — everything needed to screen a photo without
// a network. The WebGPU module (gpu/, 3.6 MB) and the evaluation subset (2.7 MB) are not fetched
// up front: the page asks for them on first use (WebGPU, an audit) and they are cached then, like
// every model fetched later (the picker). Every same-origin GET is answered
// network-first: online, the page sees exactly what the server has (and the cached copy is
// refreshed); offline, it gets the cached copy. Header peeks (X-FairScreen-Peek) are not cached.
// The post-build hook stamps BUILD with a hash of the build, so a new build installs a new cache
// and the old one is deleted.
"use strict";

const BUILD = "dev";
const CACHE = `fairscreen-${BUILD}`;

async function json(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

/// The files installed up front: the shell, both asset indexes and the default model.
async function precacheList() {
  const manifest = await json("manifest.json");
  const shell = manifest.assets
    .map((a) => a.path)
    .filter(
      (p) =>
        !p.startsWith("models/") && !p.startsWith("eval/") && !p.startsWith("gpu/") && p !== "sw.js",
    );
  const index = await json("models/index.json");
  const entry = index.assets.find((a) => a.name === index.default);
  if (!entry) throw new Error("models/index.json has no default entry");
  const indexes = ["models/index.json", "eval/index.json"];
  return ["./", "manifest.json", ...shell, ...indexes, `models/${entry.file}`];
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll((await precacheList()).map((u) => new Request(u, { cache: "no-store" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith("fairscreen-") && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

async function networkFirst(request) {
  const peek = request.headers.has("X-FairScreen-Peek");
  try {
    const response = await fetch(request);
    if (!peek && response.ok && response.status === 200) {
      const copy = response.clone();
      caches.open(CACHE).then((c) => c.put(request, copy)).catch(() => {});
    }
    return response;
  } catch (err) {
    const cached = await caches.match(request, { ignoreSearch: request.mode === "navigate" });
    if (cached) return cached;
    if (request.mode === "navigate") {
      const shell = await caches.match("./");
      if (shell) return shell;
    }
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  event.respondWith(networkFirst(event.request));
});
