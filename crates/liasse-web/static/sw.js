// Liasse service worker. It caches the application shell and, for offline reading, the list
// of the documents' names and states (/documents.json). It NEVER caches document contents,
// previews, downloads, exports or API answers: those always go to the network.
"use strict";
var SHELL_CACHE = "liasse-shell-v1";
var DATA_CACHE = "liasse-data-v1";
var SHELL = [
  "/hors-ligne",
  "/static/app.css",
  "/static/app.js",
  "/static/icon.svg",
  "/static/icon-192.png",
  "/static/icon-512.png",
  "/manifest.webmanifest"
];

function neverCached(url) {
  return /\/(contenu|apercu|content)(\/|$)/.test(url.pathname) ||
    url.pathname.indexOf("/api/") === 0 ||
    url.pathname === "/export" ||
    url.pathname.indexOf("/export") !== -1;
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== SHELL_CACHE && k !== DATA_CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  if (req.method !== "GET") {
    if (url.pathname === "/deconnexion") { caches.delete(DATA_CACHE); }
    return;
  }
  if (neverCached(url)) { return; }
  if (url.pathname === "/documents.json") {
    event.respondWith(fetch(req).then(function (resp) {
      if (resp.ok) {
        var copy = resp.clone();
        caches.open(DATA_CACHE).then(function (c) { c.put("/documents.json", copy); });
      }
      return resp;
    }).catch(function () {
      return caches.match("/documents.json").then(function (r) {
        return r || new Response(JSON.stringify({ documents: [] }), { headers: { "Content-Type": "application/json" } });
      });
    }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest") {
    event.respondWith(caches.match(req).then(function (r) { return r || fetch(req); }));
    return;
  }
  if (req.mode === "navigate") {
    event.respondWith(fetch(req).catch(function () { return caches.match("/hors-ligne"); }));
  }
});
