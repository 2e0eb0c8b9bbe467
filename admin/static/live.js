// Refresh the dashboard's figures every 10 s. The server answers 304 (no body) while
// nothing changed, so an idle dashboard costs one tiny request per tick.
(function () {
  "use strict";
  var box = document.getElementById("live");
  if (!box || !window.fetch) { return; }
  var etag = box.getAttribute("data-etag");
  var url = box.getAttribute("data-live-url");
  function tick() {
    var headers = etag ? { "If-None-Match": '"' + etag + '"' } : {};
    fetch(url, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 200) {
          var tag = response.headers.get("ETag");
          etag = tag ? tag.replace(/^W\//, "").replace(/"/g, "") : null;
          return response.text().then(function (html) { box.innerHTML = html; });
        }
        return null;
      })
      .catch(function () { /* offline for a moment: try again next tick */ })
      .then(function () { window.setTimeout(tick, 10000); });
  }
  window.setTimeout(tick, 10000);
})();
