// The staff station and the kiosk when the network drops. Plain JavaScript, no framework.
//
// Online, the station keeps its site's vouchers for today and tomorrow in IndexedDB,
// refreshed every minute with what changed since its cursor (GET /api/v1/sync): masked
// names and phones, slot, units, state, and a keyed hash of each code, never the codes.
// Offline, a scan (wedge, keypad or camera: they all submit the scan form) is decided here:
// check digit, known voucher (the hash of what was scanned), slot time, already collected.
// Every action gets a UUID and waits in IndexedDB until POST /api/v1/sync takes it, so a
// reload, a closed browser or a power cut loses none. <body> says data-sync-state
// (online|offline|syncing) and data-sync-pending (how many wait).
(function () {
  "use strict";
  var body = document.body;
  var mode = body.getAttribute("data-offline");
  if (!mode || !window.indexedDB) return;
  var T = JSON.parse(body.getAttribute("data-offline-texts"));
  var lang = body.getAttribute("data-lang") || "zh";
  var syncUrl = body.getAttribute("data-sync-url");
  var csrf = body.getAttribute("data-csrf");
  var site = body.getAttribute("data-site");
  var dbName = mode === "kiosk" ? "pickup-kiosk-" + site : "pickup-staff";
  var REFRESH_MS = 60000;
  var BATCH = 100;
  var state = { copy: null, keys: [], pending: [], token: null, failed: false, syncing: false };

  var fill = function (text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  };
  var el = function (tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };

  // -- IndexedDB: vouchers (by id, indexed by hash), meta, pending (in order), notices -----
  var dbReady = new Promise(function (resolve, reject) {
    var open = indexedDB.open(dbName, 1);
    open.onupgradeneeded = function () {
      var db = open.result;
      db.createObjectStore("vouchers", { keyPath: "id" }).createIndex("hash", "hash");
      db.createObjectStore("meta", { keyPath: "key" });
      db.createObjectStore("pending", { keyPath: "seq", autoIncrement: true });
      db.createObjectStore("notices", { keyPath: "id" });
    };
    open.onsuccess = function () { resolve(open.result); };
    open.onerror = function () { reject(open.error); };
  });
  // One transaction; resolves with out.value once it is committed (durable), not before.
  var inStores = function (names, how, work) {
    return dbReady.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(names, how);
        var out = {};
        t.oncomplete = function () { resolve(out.value); };
        t.onerror = t.onabort = function () { reject(t.error || new Error("IndexedDB")); };
        work(t, out);
      });
    });
  };
  var readAll = function (name) {
    return inStores([name], "readonly", function (t, out) {
      t.objectStore(name).getAll().onsuccess = function (e) { out.value = e.target.result; };
    });
  };
  var readMeta = function (key) {
    return inStores(["meta"], "readonly", function (t, out) {
      t.objectStore("meta").get(key).onsuccess = function (e) {
        out.value = e.target.result ? e.target.result.value : null;
      };
    });
  };
  var writeMeta = function (key, value) {
    return inStores(["meta"], "readwrite", function (t) {
      t.objectStore("meta").put({ key: key, value: value });
    });
  };

  // -- time: the server's clock, as of the last copy --------------------------------------
  var now = function () { return Date.now() + (state.copy ? state.copy.offset : 0); };
  var clock = function (ms) {
    var zone = state.copy ? state.copy.distribution.timezone : undefined;
    return new Intl.DateTimeFormat(lang === "zh" ? "zh-CN" : "en-GB", {
      timeZone: zone, hour: "2-digit", minute: "2-digit", hour12: false,
    }).format(new Date(ms));
  };
  var slotText = function (v) { return clock(Date.parse(v.start)) + "–" + clock(Date.parse(v.end)); };
  var unitName = function () { return state.copy ? state.copy.distribution.unit_name[lang] : ""; };

  // -- status: Online / Offline / Syncing, and how many wait ------------------------------
  var statusNode = el("span", { id: "sync-status", role: "status", "aria-live": "polite" });
  var bar = document.querySelector("header.bar");
  if (bar) bar.insertBefore(statusNode, bar.children[1] || null);
  var offline = function () { return !navigator.onLine || state.failed; };
  var showStatus = function () {
    var n = state.pending.length;
    var word = state.syncing ? "syncing" : offline() ? "offline" : "online";
    body.setAttribute("data-sync-state", word);
    body.setAttribute("data-sync-pending", String(n));
    statusNode.textContent = T["sync_" + word] + (n ? " · " + fill(T.sync_waiting, { n: n }) : "");
    statusNode.className = "sync-status sync-" + word;
    if (listSection) listSection.hidden = !offline() || !state.copy;
  };
  var loadPending = function () {
    return readAll("pending").then(function (rows) {
      state.pending = rows;
      showStatus();
      return rows;
    });
  };

  // -- hashing what was scanned, with the day keys sent with the copy ---------------------
  var hexBytes = function (hex) {
    var bytes = new Uint8Array(hex.length / 2);
    for (var i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
    return bytes;
  };
  var importKeys = function () {
    if (!state.copy || !window.crypto || !crypto.subtle) return Promise.resolve();
    return Promise.all(state.copy.keys.map(function (k) {
      return crypto.subtle.importKey("raw", hexBytes(k.key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    })).then(function (keys) { state.keys = keys; });
  };
  var hashesOf = function (code) {
    var data = new TextEncoder().encode(code);
    return Promise.all(state.keys.map(function (key) {
      return crypto.subtle.sign("HMAC", key, data).then(function (sig) {
        return Array.prototype.map.call(new Uint8Array(sig), function (b) {
          return ("0" + b.toString(16)).slice(-2);
        }).join("").slice(0, 32);
      });
    }));
  };
  var findByHash = function (hashes) {
    return inStores(["vouchers"], "readonly", function (t, out) {
      var index = t.objectStore("vouchers").index("hash");
      hashes.forEach(function (hash) {
        index.get(hash).onsuccess = function (e) {
          if (e.target.result && !out.value) out.value = { voucher: e.target.result, hash: hash };
        };
      });
    });
  };

  // -- the code as typed or scanned: 16 digits with a Damm check digit --------------------
  var DAMM = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2], [7, 0, 9, 2, 1, 5, 4, 8, 6, 3], [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6], [6, 1, 2, 3, 0, 4, 5, 9, 7, 8], [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4], [8, 9, 4, 5, 3, 6, 2, 0, 1, 7], [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
  ];
  var SEPARATORS = /[\s\u00a0\u2007\u2009\u202f\u3000\u200b\u2060\ufeff\-\u2010-\u2014\u2212\uff0d.\uff0e]/g;
  var readCode = function (text) {
    var s = text.replace(/[\uff10-\uff19]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    }).replace(SEPARATORS, "");
    if (/^pv1/i.test(s)) s = s.slice(3);
    if (!/^\d{16}$/.test(s)) return null;
    var interim = 0;
    for (var i = 0; i < s.length; i++) interim = DAMM[interim][s.charCodeAt(i) - 48];
    return interim === 0 ? s : null;
  };

  // -- what this device knows about a voucher: its copy plus the actions still waiting ----
  var factsOf = function (v) {
    var handed = v.handed;
    var queue = v.checked_in ? v.queue : null;
    state.pending.forEach(function (p) {
      if (p.action.booking !== v.id) return;
      if (p.action.kind === "handover") handed += p.action.units;
      if (p.action.kind === "checkin" && queue === null) queue = p.action.queue_label;
    });
    return { handed: handed, checkedIn: Boolean(v.checked_in) || queue !== null, queue: queue };
  };
  var limits = function (v) {
    var d = state.copy.distribution;
    return {
      early: Date.parse(v.start) - d.early_minutes * 60000,
      late: Date.parse(v.end) + d.grace_minutes * 60000,
    };
  };
  // The verdict, as shared/verification.py judges it.
  var verdictOf = function (v, f, t) {
    if (v.status === "cancelled") return "cancelled";
    if (f.handed > 0 && v.units - f.handed <= 0) return "collected";
    var l = limits(v);
    if (v.status === "missed" || (t > l.late && !f.checkedIn)) return "missed";
    if (t < l.early) return "too_early";
    return "valid";
  };
  // The state word, as shared/booking_states.py says it.
  var stateOf = function (v, f, t) {
    if (v.status === "cancelled") return "cancelled";
    if (f.handed > 0) return f.handed >= v.units ? "collected" : "partly_collected";
    if (f.checkedIn) return "checked_in";
    if (v.status === "missed" || t > Date.parse(v.end) + state.copy.distribution.grace_minutes * 60000) return "missed";
    return "booked";
  };
  var verdictText = function (word, v, f) {
    if (word === "valid") return T.offline_valid;
    if (word === "cancelled") return T.cancelled;
    if (word === "collected") return T.offline_collected;
    if (word === "missed") return fill(T.offline_missed, { slot: slotText(v) });
    if (word === "too_early") return fill(T.offline_too_early, { time: clock(limits(v).early) });
    return T.offline_unknown;
  };
  var decide = function (text) {
    var code = readCode(text);
    if (!code) return Promise.resolve({ word: "mistyped", message: T.offline_mistyped });
    if (!state.copy || !state.keys.length) return Promise.resolve({ word: "no_copy", message: T.offline_no_copy });
    return hashesOf(code).then(findByHash).then(function (found) {
      if (!found) return { word: "unknown", message: T.offline_unknown };
      var v = found.voucher;
      var f = factsOf(v);
      var word = verdictOf(v, f, now());
      return { word: word, voucher: v, facts: f, hash: found.hash, message: verdictText(word, v, f) };
    });
  };

  // -- queueing an action: durable before the screen says it is done ---------------------
  var uuid = function () {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  };
  var queueAction = function (action, name) {
    action.id = uuid();
    action.at = new Date(now()).toISOString();
    action.language = lang;
    return inStores(["pending"], "readwrite", function (t) {
      t.objectStore("pending").add({ action: action, name: name });
    }).then(loadPending);
  };

  // -- talking to the server ------------------------------------------------------------------
  var headers = function (extra) {
    var h = extra || {};
    if (state.token) h.Authorization = "Bearer " + state.token;
    else if (csrf) h["X-CSRF-Token"] = csrf;
    return h;
  };
  var call = function (url, options) {
    return fetch(url, options).then(function (response) {
      state.failed = false;
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }, function (error) {
      state.failed = true; // the network, not the server: we are offline
      throw error;
    });
  };
  var storeCopy = function (data) {
    var copy = {
      cursor: data.cursor, keys: data.keys, site: data.site, distribution: data.distribution,
      station: data.station, keep_until: data.keep_until, fetched: data.server_time,
      offset: Date.parse(data.server_time) - Date.now(),
    };
    return inStores(["vouchers", "meta"], "readwrite", function (t) {
      var vouchers = t.objectStore("vouchers");
      if (data.full) vouchers.clear();
      data.vouchers.forEach(function (v) { vouchers.put(v); });
      if (!data.full) {
        var kept = {};
        data.ids.forEach(function (id) { kept[id] = true; });
        vouchers.getAllKeys().onsuccess = function (e) {
          e.target.result.forEach(function (id) { if (!kept[id]) vouchers.delete(id); });
        };
      }
      t.objectStore("meta").put({ key: "copy", value: copy });
    }).then(function () {
      state.copy = copy;
      body.setAttribute("data-sync-copy", data.server_time);
      return importKeys();
    });
  };
  var refresh = function () {
    if (mode === "kiosk" && !state.token) return Promise.resolve();
    var cursor = state.copy ? "&cursor=" + encodeURIComponent(state.copy.cursor) : "";
    return call(syncUrl + "?lang=" + lang + cursor, {
      credentials: "same-origin", cache: "no-store", headers: headers({ Accept: "application/json" }),
    }).then(storeCopy).then(function () {
      if (mode === "kiosk" && state.copy.distribution.has_safety) {
        fetch(body.getAttribute("data-safety-url") + "?lang=" + lang).catch(function () {});
      }
    });
  };
  var settle = function (sent, results) {
    var byId = {};
    results.forEach(function (r) { byId[r.id] = r; });
    return inStores(["pending", "notices"], "readwrite", function (t) {
      sent.forEach(function (p) {
        var r = byId[p.action.id];
        if (!r) return;
        t.objectStore("pending").delete(p.seq);
        if (r.outcome !== "applied") {
          t.objectStore("notices").put({
            id: r.id, outcome: r.outcome, message: r.message, name: p.name, at: p.action.at,
          });
        }
      });
    });
  };
  var uploading = null;
  var upload = function () {
    if (uploading) return uploading;
    uploading = loadPending().then(function send(pending) {
      if (!pending.length || !navigator.onLine) return null;
      state.syncing = true;
      showStatus();
      var batch = pending.slice(0, BATCH);
      return call(syncUrl + "?lang=" + lang, {
        method: "POST", credentials: "same-origin",
        headers: headers({ "Content-Type": "application/json", Accept: "application/json" }),
        body: JSON.stringify({ actions: batch.map(function (p) { return p.action; }) }),
      }).then(function (answer) { return settle(batch, answer.results); })
        .then(loadPending)
        .then(function (rest) { return rest.length && rest.length < pending.length ? send(rest) : null; });
    }).catch(function () {}).then(function () {
      state.syncing = false;
      uploading = null;
      return loadPending().then(showNotices);
    });
    return uploading;
  };
  var syncNow = function () {
    return upload().then(refresh).catch(function () {}).then(function () {
      showStatus();
      renderList();
    });
  };

  // -- the staff station's offline panel ----------------------------------------------------
  var panel = null;
  var listSection = null;
  var noticesSection = null;
  var main = document.getElementById("main");
  var summaryRows = function (dl, v, f) {
    var rows = [
      ["recipient", v.name], ["contact", [v.contact, v.phone].filter(Boolean).join(" ")],
      ["slot", slotText(v)], ["allotment", v.units + " " + unitName()],
      ["handed", f.handed], ["remaining", Math.max(v.units - f.handed, 0)],
      ["state", T.states[stateOf(v, f, now())]],
    ];
    rows.forEach(function (row) {
      dl.appendChild(el("dt", {}, T[row[0]]));
      dl.appendChild(el("dd", { "data-field": row[0] }, row[1]));
    });
  };
  var showStaffResult = function (result, note) {
    panel.textContent = "";
    panel.hidden = false;
    var ok = result.word === "valid";
    var box = el("div", { class: "verdict " + (ok ? "ok" : "no"), role: ok ? "status" : "alert", id: "offline-verdict", "data-reason": result.word });
    box.appendChild(el("p", { class: "big", id: "offline-message" }, note || result.message));
    panel.appendChild(box);
    if (!result.voucher) return;
    var v = result.voucher;
    var f = factsOf(v);
    var dl = el("dl", { class: "summary", id: "offline-voucher" });
    summaryRows(dl, v, f);
    panel.appendChild(dl);
    var remaining = v.units - f.handed;
    if (verdictOf(v, f, now()) !== "valid" || remaining <= 0) return;
    var all = el("button", { type: "button", class: "primary wide", id: "offline-hand-over-all" }, fill(T.hand_over_all_n, { n: remaining + " " + unitName() }));
    all.addEventListener("click", function () { handOver(result, remaining); });
    panel.appendChild(all);
    var part = el("form", { class: "row", id: "offline-part" });
    var label = el("label", { for: "offline-units" }, T.units_label);
    var units = el("input", { id: "offline-units", type: "number", min: "1", max: String(remaining), step: "1", inputmode: "numeric", required: "" });
    part.appendChild(label);
    part.appendChild(units);
    part.appendChild(el("button", { type: "submit" }, T.hand_over_some));
    part.addEventListener("submit", function (e) {
      e.preventDefault();
      var n = Number(units.value);
      if (!(n >= 1 && n <= remaining && Math.floor(n) === n)) {
        showStaffResult(result, fill(T.offline_units_range, { max: remaining }));
        return;
      }
      handOver(result, n);
    });
    panel.appendChild(part);
  };
  var handOver = function (result, n) {
    var v = result.voucher;
    queueAction({ kind: "handover", booking: v.id, hash: result.hash, units: n }, v.name).then(function () {
      showStaffResult(result, fill(T.offline_handed, { n: n + " " + unitName() }));
      renderList();
    });
  };
  var renderList = function () {
    if (!listSection || !state.copy) return Promise.resolve();
    return readAll("vouchers").then(function (vouchers) {
      vouchers.sort(function (a, b) { return a.start < b.start ? -1 : a.start > b.start ? 1 : a.id - b.id; });
      var t = now();
      var tbody = el("tbody");
      vouchers.forEach(function (v) {
        var f = factsOf(v);
        var word = stateOf(v, f, t);
        var tr = el("tr", { "data-id": String(v.id), "data-state": word });
        [slotText(v), v.name, v.units, f.handed, T.states[word]].forEach(function (cell) {
          tr.appendChild(el("td", {}, cell));
        });
        tbody.appendChild(tr);
      });
      var table = listSection.querySelector("table");
      table.replaceChild(tbody, table.tBodies[0]);
      listSection.querySelector("summary").textContent = fill(T.offline_list, { n: vouchers.length });
    });
  };
  var showNotices = function () {
    if (!noticesSection) return Promise.resolve();
    return readAll("notices").then(function (notices) {
      var list = noticesSection.querySelector("ul");
      list.textContent = "";
      noticesSection.hidden = notices.length === 0;
      notices.forEach(function (n) {
        var li = el("li", { "data-outcome": n.outcome });
        li.appendChild(el("span", {}, (n.name ? n.name + " · " : "") + clock(Date.parse(n.at)) + " · " + n.message + " "));
        var dismiss = el("button", { type: "button" }, T.offline_dismiss);
        dismiss.addEventListener("click", function () {
          inStores(["notices"], "readwrite", function (t) { t.objectStore("notices").delete(n.id); }).then(showNotices);
        });
        li.appendChild(dismiss);
        list.appendChild(li);
      });
    });
  };
  if (mode === "staff" && main) {
    panel = el("section", { id: "offline-panel", "aria-live": "polite" });
    panel.hidden = true;
    noticesSection = el("section", { id: "offline-notices", class: "alert" });
    noticesSection.appendChild(el("h2", {}, T.offline_notices));
    noticesSection.appendChild(el("ul"));
    noticesSection.hidden = true;
    listSection = el("details", { id: "offline-list" });
    listSection.appendChild(el("summary"));
    var table = el("table", { class: "data" });
    var head = el("tr");
    ["slot", "recipient", "allotment", "handed", "state"].forEach(function (key) {
      head.appendChild(el("th", { scope: "col" }, T[key]));
    });
    table.appendChild(el("thead")).appendChild(head);
    table.appendChild(el("tbody"));
    listSection.appendChild(table);
    listSection.hidden = true;
    main.insertBefore(noticesSection, main.firstChild);
    main.insertBefore(panel, noticesSection.nextSibling);
    main.appendChild(listSection);
  }

  // -- the kiosk offline: decide, show the safety text, check in with a local number -----
  var kioskScreen = function (nodes, reason) {
    Array.prototype.forEach.call(main.children, function (child) { child.hidden = true; });
    var screen = el("section", { id: "offline-screen", "data-reason": reason });
    nodes.forEach(function (node) { screen.appendChild(node); });
    var again = el("a", { class: "button wide", href: body.getAttribute("data-home") || "." }, T.start_again);
    screen.appendChild(again);
    main.appendChild(screen);
    body.setAttribute("data-screen", "offline-" + reason);
    window.scrollTo(0, 0);
  };
  var verdictBox = function (ok, text, id) {
    var box = el("div", { class: "verdict " + (ok ? "ok" : "no"), role: ok ? "status" : "alert" });
    box.appendChild(el("p", { class: "big", id: id || "message" }, text));
    return box;
  };
  var checkedInScreen = function (queue) {
    var box = verdictBox(true, T.checked_in);
    var line = el("p", { class: "queue" }, T.queue_number + " ");
    line.appendChild(el("strong", { id: "queue-number" }, queue));
    box.appendChild(line);
    kioskScreen([box, el("p", { class: "lead" }, T.wait_call)], "checked-in");
  };
  var nextLabel = function () {
    var day = new Date(now()).toISOString().slice(0, 10);
    return readMeta("queue").then(function (q) {
      var n = q && q.day === day ? q.n + 1 : 1;
      return writeMeta("queue", { day: day, n: n }).then(function () {
        return state.copy.station.label_prefix + "-" + n;
      });
    });
  };
  var kioskDecide = function (text) {
    if (!state.token || !state.copy) {
      kioskScreen([verdictBox(false, T.offline_kiosk_ask_staff)], "no-copy");
      return;
    }
    decide(text).then(function (result) {
      if (result.word !== "valid") {
        kioskScreen([verdictBox(false, result.message)], result.word);
        return;
      }
      var v = result.voucher;
      if (result.facts.checkedIn) {
        checkedInScreen(result.facts.queue);
        return;
      }
      var dl = el("dl", { class: "summary" });
      [["recipient", v.name], ["allotment", v.units + " " + unitName()], ["slot", slotText(v)]].forEach(function (row) {
        dl.appendChild(el("dt", {}, T[row[0]]));
        dl.appendChild(el("dd", {}, row[1]));
      });
      var safetyNode = el("div", { id: "offline-safety" });
      var button = el("button", { type: "button", class: "primary wide", id: "acknowledge" }, state.copy.distribution.has_safety ? T.acknowledge : T.check_in);
      button.addEventListener("click", function () {
        button.disabled = true;
        nextLabel().then(function (label) {
          return queueAction({
            kind: "checkin", booking: v.id, hash: result.hash, queue_label: label,
            acknowledged: state.copy.distribution.has_safety,
          }, v.name).then(function () { checkedInScreen(label); });
        });
      });
      kioskScreen([verdictBox(true, T.offline_valid), dl, safetyNode, button], "safety");
      if (state.copy.distribution.has_safety) {
        fetch(body.getAttribute("data-safety-url") + "?lang=" + lang).then(function (r) {
          return r.ok ? r.text() : "";
        }).then(function (html) {
          var fragment = new DOMParser().parseFromString(html, "text/html").body;
          while (fragment.firstChild) safetyNode.appendChild(document.adoptNode(fragment.firstChild));
        }).catch(function () {});
      }
    });
  };

  // -- the scan form: the server decides while online and nothing waits; else this page --
  var form = document.getElementById("scan-form");
  var input = document.getElementById("code");
  if (form && input) {
    form.addEventListener("submit", function (event) {
      if (!offline() && !state.pending.length) return;
      event.preventDefault();
      var text = input.value;
      var local = function () {
        input.value = "";
        input.dispatchEvent(new Event("input")); // the digit count starts again
        if (mode === "kiosk") kioskDecide(text);
        else decide(text).then(function (result) { showStaffResult(result); });
      };
      if (offline()) { local(); return; }
      // Online with actions waiting: upload them first, so the server judges the scan
      // knowing about them; if that fails, decide here.
      upload().then(function () {
        if (!offline() && !state.pending.length) form.submit();
        else local();
      });
    });
  }

  // Signing out with nothing waiting forgets this device's copy of the vouchers.
  var logout = document.querySelector("form[action$='/staff/logout']");
  if (logout && mode === "staff") {
    logout.addEventListener("submit", function (event) {
      if (state.pending.length) return;
      event.preventDefault();
      dbReady.then(function (db) { db.close(); }).catch(function () {}).then(function () {
        var drop = indexedDB.deleteDatabase(dbName);
        drop.onsuccess = drop.onerror = drop.onblocked = function () { logout.submit(); };
      });
    });
  }

  // -- start: the kept copy first (works offline), then the network ---------------------
  window.addEventListener("online", function () { state.failed = false; showStatus(); syncNow(); });
  window.addEventListener("offline", showStatus);
  var device = /(?:^#|&)device=([^&]+)/.exec(location.hash);
  Promise.resolve(device ? writeMeta("device", decodeURIComponent(device[1])) : null).then(function () {
    if (device) history.replaceState(null, "", location.pathname + location.search);
    return Promise.all([readMeta("device"), readMeta("copy")]);
  }).then(function (kept) {
    state.token = mode === "kiosk" ? kept[0] : null;
    var copy = kept[1];
    if (copy && Date.parse(copy.keep_until) < Date.now() + copy.offset) {
      // Past the end of the copy's second day: nothing in it is of use any more.
      return inStores(["vouchers", "meta"], "readwrite", function (t) {
        t.objectStore("vouchers").clear();
        t.objectStore("meta").delete("copy");
      });
    }
    state.copy = copy;
    if (copy) body.setAttribute("data-sync-copy", copy.fetched);
    return importKeys();
  }).then(loadPending).then(showNotices).then(renderList).then(function () {
    showStatus();
    if (navigator.onLine) syncNow();
    setInterval(function () { if (navigator.onLine) syncNow(); else renderList(); }, REFRESH_MS);
    setInterval(function () { if (offline()) renderList(); }, 15000);
  });

  if ("serviceWorker" in navigator) {
    // Registered after the page's load, so the first load stays small; once it runs, the
    // worker is asked to keep this page and its safety text (body data-sync-kept="yes").
    var register = function () {
      navigator.serviceWorker.register(body.getAttribute("data-sw"), { scope: "/" }).then(function () {
        return navigator.serviceWorker.ready;
      }).then(function (registration) {
        var keep = [location.pathname + location.search];
        var safetyUrl = body.getAttribute("data-safety-url");
        if (safetyUrl) keep.push(safetyUrl + "?lang=" + lang);
        var channel = new MessageChannel();
        channel.port1.onmessage = function () { body.setAttribute("data-sync-kept", "yes"); };
        registration.active.postMessage({ keep: keep }, [channel.port2]);
      }).catch(function () {});
    };
    if (document.readyState === "complete") register();
    else window.addEventListener("load", register);
  }
})();
