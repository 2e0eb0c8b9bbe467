// The pickup point's service worker: keeps the staff station's and the kiosk's pages,
// scripts, styles and safety texts, so both open without a network once loaded. Same
// origin only. The vouchers themselves live in IndexedDB (offline.js), never here; the
// API and every other page go to the network as usual.
"use strict";
var CACHE = "pickup-offline-{{ version }}";
var FILES = {{ files | tojson }};
// The pages kept: the station's start page and each kiosk's start screen (never a page
// that shows one voucher, whose URL or form carries its code).
var SHELL = /^\/(staff\/|kiosk\/\d+)$/;
var SAFETY = /^\/kiosk\/\d+\/safety$/;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(FILES); }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("pickup-offline-") === 0 && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

// A page asks to keep itself (its own first load came before this worker ran) and its
// safety text; only the start pages and safety texts are kept, whatever is asked.
self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.keep) || [];
  var kept = urls.filter(function (url) {
    var path = new URL(url, self.location.origin).pathname;
    return SHELL.test(path) || SAFETY.test(path);
  }).map(function (url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok || response.redirected) return null;
      return caches.open(CACHE).then(function (cache) { return cache.put(url, response); });
    }).catch(function () {});
  });
  var reply = event.ports && event.ports[0];
  Promise.all(kept).then(function () { if (reply) reply.postMessage("kept"); });
});

// The page to show offline for a navigation: the kept start page of the station or kiosk.
function shellFor(path) {
  if (path.indexOf("/staff/") === 0) return "/staff/";
  var kiosk = /^\/kiosk\/\d+/.exec(path);
  return kiosk ? kiosk[0] : null;
}

function networkFirst(request, keep) {
  return fetch(request).then(function (response) {
    if (keep && response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var path = url.pathname;
  if (request.mode === "navigate") {
    var shell = shellFor(path);
    if (!shell) return;
    event.respondWith(
      networkFirst(request, request.method === "GET" && SHELL.test(path)).catch(function () {
        return caches.match(request, { ignoreSearch: true }).then(function (hit) {
          return hit || caches.match(shell, { ignoreSearch: true });
        }).then(function (hit) { return hit || Response.error(); });
      })
    );
    return;
  }
  if (request.method !== "GET") return;
  if (FILES.indexOf(path) >= 0) {
    event.respondWith(caches.match(path).then(function (hit) {
      return hit || networkFirst(request, true);
    }));
  } else if (SAFETY.test(path)) {
    event.respondWith(networkFirst(request, true).catch(function () {
      return caches.match(request).then(function (hit) { return hit || Response.error(); });
    }));
  }
});
