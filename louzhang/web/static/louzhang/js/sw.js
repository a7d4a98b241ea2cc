// The service worker of 楼长, served at /sw.js by louzhang.web.pwa (which fills in the version
// and the asset list). It keeps:
//  - the static assets (cache "lz-static-<version>": a release with other assets gets a new cache
//    and the old one is dropped);
//  - the pages of the officer's role (cache "lz-pages"), put there by the page's script
//    (offline.js) after log-in and wiped by it at log-out.
// Pages are fetched from the network first; without a connection the kept copy is shown, and
// for a page the phone does not keep, the offline page (what is available offline). The API is
// never answered from a cache.
"use strict";
const VERSION = "__LZ_VERSION__";
const ASSETS = ["__LZ_ASSETS__"];
const STATIC_CACHE = "lz-static-" + VERSION;
const PAGES = "lz-pages";
const OFFLINE_URL = "/offline/";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC_CACHE);
    await cache.addAll(ASSETS);
    const offline = await fetch(OFFLINE_URL, { credentials: "omit" });
    if (offline.ok) await cache.put(OFFLINE_URL, offline);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("lz-static-") && name !== STATIC_CACHE) await caches.delete(name);
    }
    // no clients.claim(): a page loading while the worker activates stays as it began (its
    // deferred scripts in order); the worker serves from the next page on
  })());
});

async function page(request) {
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && await caches.has(PAGES)) {
      // a page the phone keeps is refreshed whenever it is seen online (never re-creating the
      // cache log-out wiped)
      const cache = await caches.open(PAGES);
      const url = new URL(request.url);
      url.search = "";
      if (await cache.match(url.href)) await cache.put(url.href, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await caches.match(request, { cacheName: PAGES, ignoreSearch: true });
    if (kept) return kept;
    const offline = await caches.match(OFFLINE_URL, { cacheName: STATIC_CACHE });
    return offline || Response.error();
  }
}

async function asset(request) {
  const kept = await caches.match(request, { cacheName: STATIC_CACHE });
  return kept || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(asset(request));
  }
});
