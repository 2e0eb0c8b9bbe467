// The public queue board: ask board.json every few seconds with If-None-Match; an
// unchanged board is a 304 with no body. Numbers only, drawn with textContent.
(function () {
  "use strict";
  var main = document.getElementById("board");
  if (!main) return;
  var src = main.getAttribute("data-src");
  var interval = parseInt(main.getAttribute("data-interval") || "3000", 10);
  var nowCalling = document.getElementById("now-calling");
  var called = document.getElementById("called");
  var waitingLine = document.getElementById("waiting-line");
  var etag = null;
  var draw = function (board) {
    nowCalling.textContent = board.calling.length ? String(board.calling[0]) : "–";
    var items = board.calling.slice(1).map(function (number) {
      var li = document.createElement("li");
      li.textContent = String(number);
      return li;
    });
    called.replaceChildren.apply(called, items);
    waitingLine.textContent = waitingLine.getAttribute("data-template").replace("{count}", String(board.waiting));
  };
  var poll = function () {
    var headers = { Accept: "application/json" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(src, { cache: "no-store", headers: headers })
      .then(function (r) {
        if (r.status !== 200) return null;
        etag = r.headers.get("ETag");
        return r.json();
      })
      .then(function (board) { if (board) draw(board); })
      .catch(function () {})
      .then(function () { setTimeout(poll, interval); });
  };
  setTimeout(poll, interval);
})();
