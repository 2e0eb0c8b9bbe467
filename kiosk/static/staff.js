// Staff station: keep the checked-in queue fresh. Every few seconds ask for the queue
// section with If-None-Match; an unchanged queue costs a 304 and no redraw. Plain
// JavaScript, no framework; the section is rendered by the server (one template).
(function () {
  "use strict";
  var first = document.getElementById("queue-section");
  if (!first) return;
  var src = first.getAttribute("data-src");
  var interval = parseInt(first.getAttribute("data-interval") || "5000", 10);
  var etag = null;
  var poll = function () {
    var headers = { Accept: "text/html" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(src, { credentials: "same-origin", cache: "no-store", headers: headers })
      .then(function (r) {
        if (r.status !== 200) return null;
        etag = r.headers.get("ETag");
        return r.text();
      })
      .then(function (html) {
        var section = document.getElementById("queue-section");
        // Do not redraw under a finger or a keyboard: a button may be about to be pressed.
        if (!html || !section || section.contains(document.activeElement)) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("queue-section");
        if (fresh) section.replaceWith(document.adoptNode(fresh));
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, interval); });
  };
  setTimeout(poll, interval);
})();
