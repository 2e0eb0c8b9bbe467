// Staff station: refresh the checked-in queue every few seconds (small JSON, no framework).
(function () {
  "use strict";
  var list = document.getElementById("queue");
  if (!list) return;
  var render = function (entries) {
    var items = entries.map(function (e) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = e.url;
      a.textContent = [e.queue_number, e.recipient, e.units_due + " × " + e.unit_name, e.checked_in_at].join(" · ");
      li.appendChild(a);
      return li;
    });
    if (!items.length) {
      var empty = document.createElement("li");
      empty.textContent = list.getAttribute("data-empty");
      items.push(empty);
    }
    list.replaceChildren.apply(list, items);
  };
  var poll = function () {
    fetch(list.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) render(data.queue); })
      .catch(function () {})
      .then(function () { setTimeout(poll, parseInt(list.getAttribute("data-interval") || "5000", 10)); });
  };
  setTimeout(poll, parseInt(list.getAttribute("data-interval") || "5000", 10));
})();
