/* Handheld screens (/hh): plain script, no framework, no build step, nothing inline (the pages' CSP).
 *
 * - Scans: a keyboard-wedge scanner types a burst of keys (< 35 ms apart on average) ending in Enter; a person
 *   types slower. A slowly typed number + Enter where a quantity makes sense is a typed quantity; any other
 *   Enter is a code (scanned, or typed by hand). The field is cleared on Enter before anything else happens,
 *   so a second scan right behind the first lands in an empty field and is taken too. docs/handheld.md.
 * - Task scans (and short picks, finishes) go into an outbox in IndexedDB first, each with a client id; one
 *   sender posts them in order, one at a time. Network failure, a timeout or a 5xx: kept, retried with backoff
 *   under the same id (the server applies an id once). 2xx: dropped, the task is drawn from the answer. 4xx:
 *   dropped, red flash, error sound and the message. The outbox survives a reload.
 * - Words: the server renders them in the user's language into the page's JSON block; the API's English
 *   prompt and messages are the fallback for anything this script has no words for.
 */
(function () {
  "use strict";

  var dataNode = document.getElementById("hh-data");
  if (!dataNode) return;
  var DATA = JSON.parse(dataNode.textContent);
  var T = DATA.text || {};
  var app = document.querySelector(".hh-app");
  var PAGE = app ? app.getAttribute("data-page") : "";
  var USER = app ? app.getAttribute("data-user") : "";
  var CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var BURST_MS = 35;
  var TIMEOUT_MS = 10000;

  function $(id) { return document.getElementById(id); }

  /* "Scan bin {bin}" + {bin: "A-01"}; null when a placeholder has no value (the caller falls back). */
  function fmt(key, values) {
    var template = T[key];
    if (!template) return null;
    var missing = false;
    var out = template.replace(/\{(\w+)\}/g, function (_m, name) {
      var v = values ? values[name] : undefined;
      if (v === undefined || v === null || v === "") { missing = true; return ""; }
      return String(v);
    });
    return missing ? null : out;
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  /* --- feedback: flash, sound, message ------------------------------------------------------------------- */

  var audio = null;
  function audioContext() {
    if (!audio) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      try { audio = new Ctx(); } catch (e) { return null; }
    }
    if (audio.state === "suspended") audio.resume();
    return audio;
  }
  // Browsers start sound only from a user gesture: make the context on the first tap or key.
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, function () { audioContext(); }, { once: true, capture: true });
  });

  function tone(ctx, freq, start, length, wave, gain) {
    var osc = ctx.createOscillator();
    var vol = ctx.createGain();
    osc.type = wave;
    osc.frequency.value = freq;
    vol.gain.setValueAtTime(gain, ctx.currentTime + start);
    vol.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + start + length);
    osc.connect(vol);
    vol.connect(ctx.destination);
    osc.start(ctx.currentTime + start);
    osc.stop(ctx.currentTime + start + length + 0.02);
  }

  function sound(ok) {
    var ctx = audio; // never made here: only a gesture may start it
    if (!ctx) return;
    if (ok) {
      tone(ctx, 1800, 0, 0.12, "sine", 0.35); // one short high beep
    } else {
      tone(ctx, 180, 0, 0.18, "sawtooth", 0.5); // a low double buzz
      tone(ctx, 180, 0.26, 0.18, "sawtooth", 0.5);
    }
  }

  var flashTimer = null;
  function flash(ok) {
    var node = $("hh-flash");
    if (!node) return;
    node.classList.remove("hh-flash-ok", "hh-flash-error");
    void node.offsetWidth; // restart the fade when two answers come in a row
    node.classList.add(ok ? "hh-flash-ok" : "hh-flash-error");
    node.setAttribute("data-last", ok ? "ok" : "error");
    node.setAttribute("data-count", String(Number(node.getAttribute("data-count") || 0) + 1));
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { node.classList.remove("hh-flash-ok", "hh-flash-error"); }, 300);
  }

  function say(text, kind) {
    var node = $("hh-msg");
    if (!node) return;
    node.textContent = text || "";
    node.className = "hh-msg" + (kind ? " hh-" + kind : "");
  }

  function good(text) { flash(true); sound(true); say(text || "", text ? "ok" : ""); }
  function bad(text) { flash(false); sound(false); say(text, "error"); if (navigator.vibrate) navigator.vibrate([80, 60, 80]); }

  /* An API error in the page's words: {error: {code, message, details: {expected, scanned}}}. */
  function errorText(body, status) {
    var err = (body && body.error) || {};
    var details = err.details && !Array.isArray(err.details) ? err.details : {};
    var text = err.code ? fmt("err_" + err.code, details) : null;
    if (text && err.code === "invalid_state" && err.message) text = text + " (" + err.message + ")";
    if (!text && err.code === "validation_error" && Array.isArray(err.details) && err.details.length) {
      text = err.details.map(function (d) { return d.field + ": " + d.message; }).join("; ");
    }
    return text || err.message || fmt("err_" + ({401: "unauthorized", 403: "forbidden", 404: "not_found"}[status] || "network")) || "Error " + status;
  }

  /* --- requests -------------------------------------------------------------------------------------------- */

  /* POST JSON; resolves {status, body} (body null when not JSON); rejects on network failure or timeout. */
  function postJSON(url, body, method) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, TIMEOUT_MS) : null;
    return fetch(url, {
      method: method || "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": CSRF },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctrl ? ctrl.signal : undefined,
    }).then(function (res) {
      clearTimeout(timer);
      var type = res.headers.get("Content-Type") || "";
      if (type.indexOf("json") < 0) return { status: res.status, body: null };
      return res.json().then(function (json) { return { status: res.status, body: json }; },
                             function () { return { status: res.status, body: null }; });
    }, function (err) { clearTimeout(timer); throw err; });
  }

  /* --- the outbox: IndexedDB, in order, kept across reloads -------------------------------------------- */

  var DB_NAME = "wms-hh";
  var STORE = "outbox";
  var dbPromise = null;
  var memoryOutbox = null; // no IndexedDB (private mode of an old browser): the outbox lives as long as the page

  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve) {
      if (!window.indexedDB) { memoryOutbox = []; resolve(null); return; }
      var req;
      try { req = window.indexedDB.open(DB_NAME, 1); } catch (e) { memoryOutbox = []; resolve(null); return; }
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { memoryOutbox = []; resolve(null); };
    });
    return dbPromise;
  }

  var memorySeq = 0;
  function outboxRun(mode, work) {
    return openDb().then(function (db) {
      if (!db) return work(null);
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result;
        Promise.resolve(work(tx.objectStore(STORE))).then(function (r) { result = r; });
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  // The outbox is the device's, the scans are a person's: on a shared handheld each is sent only in the session
  // of the person who made it (the next person's session would otherwise apply it in their name).
  function mine(item) { return item.user === USER; }

  function outboxWalk(store, firstOnly) {
    return new Promise(function (resolve, reject) {
      var req = store.openCursor();
      var first = null;
      var count = 0;
      req.onsuccess = function () {
        var cursor = req.result;
        if (!cursor) { resolve({ first: first, count: count }); return; }
        if (mine(cursor.value)) {
          count += 1;
          if (!first) first = cursor.value;
          if (firstOnly) { resolve({ first: first, count: count }); return; }
        }
        cursor.continue();
      };
      req.onerror = function () { reject(req.error); };
    });
  }

  function outboxAdd(item) {
    item.user = USER;
    return outboxRun("readwrite", function (store) {
      if (!store) { item.seq = ++memorySeq; memoryOutbox.push(item); return item.seq; }
      return request(store.add(item));
    });
  }
  function outboxFirst() {
    return outboxRun("readonly", function (store) {
      if (!store) return memoryOutbox.filter(mine)[0] || null;
      return outboxWalk(store, true).then(function (r) { return r.first; });
    });
  }
  function outboxDelete(seq) {
    return outboxRun("readwrite", function (store) {
      if (!store) { memoryOutbox = memoryOutbox.filter(function (i) { return i.seq !== seq; }); return null; }
      return request(store.delete(seq));
    });
  }
  function outboxCount() {
    return outboxRun("readonly", function (store) {
      if (!store) return memoryOutbox.filter(mine).length;
      return outboxWalk(store, false).then(function (r) { return r.count; });
    });
  }

  var offline = false;
  function showUnsent() {
    return outboxCount().then(function (n) {
      var node = document.querySelector("[data-unsent]");
      if (!node) return;
      var down = offline || navigator.onLine === false;
      node.hidden = n === 0 && !down;
      node.setAttribute("data-n", String(n));
      node.textContent = down ? fmt("offline_unsent", { n: n }) : fmt("unsent", { n: n });
      node.classList.toggle("hh-offline", down);
    }).catch(function () {});
  }

  var sending = false;
  var kicked = false;
  var retryTimer = null;
  var backoff = 0;
  // What to do with an answer: the task screen draws it; elsewhere (a scan made offline, sent from the home
  // screen after a reload) only a refusal is worth a word.
  var answerHandler = function (_item, res) {
    if (res.status >= 400) bad(errorText(res.body, res.status));
  };

  function kick() {
    kicked = true;
    if (sending) return;
    clearTimeout(retryTimer);
    retryTimer = null;
    pump();
  }

  function retryLater() {
    backoff = Math.min(backoff ? backoff * 2 : 1000, 15000);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(kick, backoff);
  }

  function pump() {
    sending = true;
    kicked = false;
    outboxFirst().then(function (item) {
      if (!item) return "empty";
      return postJSON(item.url, item.body).then(function (res) {
        // 401: signed out. Keep the scan: it goes once the person has signed in again.
        if (res.status >= 500 || res.status === 401 || res.status === 408 || res.status === 429) {
          offline = res.status >= 500;
          if (res.status === 401) bad(fmt("err_unauthorized"));
          return "retry";
        }
        offline = false;
        backoff = 0;
        return outboxDelete(item.seq).then(function () {
          if (answerHandler) answerHandler(item, res);
          return "next";
        });
      }, function () {
        offline = true;
        return "retry";
      });
    }).then(function (outcome) {
      sending = false;
      showUnsent();
      if (outcome === "next" || (outcome === "empty" && kicked)) { pump(); return; }
      if (outcome === "retry") retryLater();
    }, function () {
      sending = false;
      retryLater();
    });
  }

  window.addEventListener("online", function () { offline = false; backoff = 0; showUnsent(); kick(); });
  window.addEventListener("offline", function () { offline = true; showUnsent(); });

  /* --- the scan field --------------------------------------------------------------------------------------- */

  var field = $("hh-scan");
  var keyTimes = [];
  var onEnter = null; // (value, {scanned: bool}) -> void

  function isEditable(node) {
    if (!node || node === field) return false;
    var tag = node.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || node.isContentEditable;
  }

  function refocus() {
    if (!field) return;
    if (isEditable(document.activeElement)) return; // the person is typing somewhere else
    if (document.querySelector(".hh-camera:not([hidden])")) return;
    if (document.activeElement !== field) field.focus({ preventScroll: true });
  }

  function looksLikeBurst(times) {
    if (times.length < 3) return false;
    var span = times[times.length - 1] - times[0];
    return span / (times.length - 1) < BURST_MS;
  }

  function takeEnter() {
    var value = field.value.trim();
    var times = keyTimes;
    keyTimes = [];
    field.value = ""; // at once: the next burst must land in an empty field
    if (!value) return;
    times.push(performance.now()); // the Enter itself belongs to the burst
    var scanned = looksLikeBurst(times);
    if (onEnter) onEnter(value, { scanned: scanned });
  }

  if (field) {
    field.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); takeEnter(); return; }
      if (e.key && e.key.length === 1) keyTimes.push(performance.now());
    });
    field.addEventListener("input", function () { if (!field.value) keyTimes = []; });
    $("hh-scan-form").addEventListener("submit", function (e) { e.preventDefault(); takeEnter(); });
    // A scan typed while something else has focus (a button just tapped): into the field, not lost.
    document.addEventListener("keydown", function (e) {
      if (e.target === field || isEditable(e.target) || e.ctrlKey || e.altKey || e.metaKey) return;
      if (document.querySelector(".hh-camera:not([hidden])")) return;
      if (e.key === "Enter" && field.value) { e.preventDefault(); takeEnter(); return; }
      if (e.key && e.key.length === 1) {
        e.preventDefault();
        field.focus({ preventScroll: true });
        field.value += e.key;
        keyTimes.push(performance.now());
      }
    }, true);
    document.addEventListener("click", function () { setTimeout(refocus, 0); });
    field.addEventListener("blur", function (e) {
      if (!e.relatedTarget || !isEditable(e.relatedTarget)) setTimeout(refocus, 0);
    });
    var keyboard = $("hh-keyboard");
    if (keyboard) {
      keyboard.addEventListener("click", function () {
        var on = field.getAttribute("inputmode") === "none";
        field.setAttribute("inputmode", on ? "text" : "none");
        keyboard.setAttribute("aria-pressed", on ? "true" : "false");
        field.blur();
        field.focus();
      });
    }
    setTimeout(refocus, 0);
  }

  /* --- the quantity panel ------------------------------------------------------------------------------------ */

  var qtyAnswer = null;
  function askNumber(label, min, done) {
    var panel = $("hh-qty-panel");
    var input = $("hh-qty-input");
    $("hh-qty-label").textContent = label;
    input.min = String(min);
    input.value = "";
    qtyAnswer = done;
    panel.hidden = false;
    input.focus();
  }
  function closeNumber(ok) {
    var panel = $("hh-qty-panel");
    var input = $("hh-qty-input");
    var done = qtyAnswer;
    qtyAnswer = null;
    panel.hidden = true;
    var value = input.value.trim();
    input.blur();
    refocus();
    if (!ok || !done) return;
    var n = Number(value);
    if (!/^\d+$/.test(value) || n < Number(input.min || 0)) { bad(fmt("err_qty")); return; }
    done(n);
  }
  if ($("hh-qty-panel")) {
    $("hh-qty-ok").addEventListener("click", function () { closeNumber(true); });
    $("hh-qty-cancel").addEventListener("click", function () { closeNumber(false); });
    $("hh-qty-input").addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); closeNumber(true); }
      if (e.key === "Escape") { e.preventDefault(); closeNumber(false); }
    });
  }

  var pendingQty = null; // a typed quantity for the next scan
  function setPendingQty(n) {
    pendingQty = n;
    var node = $("hh-qty-next");
    if (!node) return;
    node.hidden = n === null;
    node.textContent = n === null ? "" : fmt("qty_next", { qty: n });
  }

  /* --- camera (BarcodeDetector where the browser has it) ------------------------------------------------ */

  function setUpCamera(onCode) {
    var open = $("hh-camera-open");
    if (!open || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
    open.hidden = false;
    var box = $("hh-camera");
    var video = $("hh-video");
    var stream = null;
    var timer = null;
    var last = { code: "", at: 0 };
    var detector = null;
    function stop() {
      clearInterval(timer);
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      box.hidden = true;
      refocus();
    }
    open.addEventListener("click", function () {
      try { detector = detector || new window.BarcodeDetector(); } catch (e) { bad(fmt("camera_failed")); return; }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false }).then(function (s) {
        stream = s;
        video.srcObject = s;
        box.hidden = false;
        video.play();
        timer = setInterval(function () {
          if (video.readyState < 2) return;
          detector.detect(video).then(function (codes) {
            if (!codes.length) return;
            var code = codes[0].rawValue;
            var now = Date.now();
            if (code === last.code && now - last.at < 2000) return; // the same label still in view
            last = { code: code, at: now };
            onCode(code);
          }).catch(function () {});
        }, 200);
      }, function () { bad(fmt("camera_failed")); });
    });
    $("hh-camera-close").addEventListener("click", stop);
  }

  /* --- the task screen --------------------------------------------------------------------------------------- */

  function promptOf(task) {
    if (task.status === "done") return fmt("task_done");
    if (task.status === "awaiting_approval") return fmt("task_waiting");
    if (task.status === "cancelled") return task.next.prompt;
    var n = task.next || {};
    var ref = task.reference || {};
    var v = { bin: n.bin, sku: n.sku, qty: n.qty, order: n.order || ref.order, tote: n.tote || task.tote };
    var key = null;
    if (task.kind === "transfer_receive" && (n.expect === "order" || n.expect === "product")) {
      v.transfer = ref.transfer;
      v.left = task.lines.reduce(function (sum, l) { return sum + Math.max(l.qty - l.done - (l.short || 0), 0); }, 0);
      return fmt(n.expect === "order" ? "expect_transfer_label" : "expect_transfer_items", v) || n.prompt || "";
    }
    switch (n.expect) {
      case "bin":
        key = task.kind === "putaway" && n.sku && n.qty ? "expect_bin_put" : task.kind === "pick" ? "expect_bin_pick" : "expect_bin";
        break;
      case "product":
        if (task.kind === "pack") key = "expect_check";
        else if (task.kind === "count" || !n.sku) key = "expect_count_items";
        else key = n.qty > 1 ? "expect_product_qty" : "expect_product";
        break;
      case "tote":
        key = task.kind === "pack" ? "expect_pack_tote" : v.order ? "expect_tote_order" : "expect_tote";
        break;
      case "order": key = v.order ? "expect_order_id" : "expect_order"; break;
      case "shelf": key = "expect_shelf"; break;
      case "qty": key = task.kind === "pick" ? "expect_qty_pick" : task.kind === "count" ? "expect_qty_count" : "expect_qty"; break;
      case "nothing":
        key = task.lines.length && task.lines.every(function (l) { return l.done + (l.short || 0) >= l.qty; }) ? "expect_done" : null;
        break;
    }
    return (key && fmt(key, v)) || n.prompt || "";
  }

  function qtyMakesSense(task) {
    var e = task.next && task.next.expect;
    if (task.kind === "count") return e === "qty" || e === "product"; // a count's bin is scanned, not counted
    return e === "qty" || e === "product" || e === "bin";
  }

  function setUpTask() {
    var task = DATA.task;
    var closed = function () { return task.status === "done" || task.status === "cancelled"; };

    function currentLine() {
      var n = task.next || {};
      var open = task.lines.filter(function (l) { return l.done + (l.short || 0) < l.qty; });
      var match = open.filter(function (l) { return (!n.sku || l.sku === n.sku) && (!n.bin || !l.bin || l.bin === n.bin); });
      return (match[0] || open[0] || {}).line;
    }

    function draw() {
      $("hh-next").textContent = promptOf(task);
      var list = $("hh-lines");
      list.textContent = "";
      var current = currentLine();
      task.lines.forEach(function (l) {
        var li = document.createElement("li");
        var done = l.done + (l.short || 0) >= l.qty;
        li.className = done ? "hh-line-done" : l.line === current ? "hh-line-current" : "";
        var sku = document.createElement("span");
        sku.className = "hh-line-sku";
        sku.textContent = l.sku;
        var where = document.createElement("span");
        where.className = "hh-line-where";
        where.textContent = [l.bin, l.lot, l.order ? "#" + l.order : null].filter(Boolean).join(" · ");
        var count = document.createElement("span");
        count.className = "hh-line-count";
        // A count is blind: what the bin should hold is never shown, only what was counted.
        count.textContent = task.kind === "count" ? String(l.done) : l.done + "/" + l.qty + (l.short ? " (-" + l.short + ")" : "");
        li.appendChild(sku);
        li.appendChild(count);
        li.appendChild(where);
        list.appendChild(li);
      });
      var finish = $("hh-finish");
      // Finish only where it can be done: all scanned, or a count (the person says when the bin is counted), or a
      // transfer's receiving once its label is scanned (what has not arrived is then short).
      var expect = task.next && task.next.expect;
      var saysWhenDone = task.kind === "count" || task.kind === "transfer_receive";
      finish.hidden = closed() || !(expect === "nothing" || (saysWhenDone && expect === "product"));
      if ($("hh-damaged")) $("hh-damaged").hidden = closed() || expect !== "product";
      finish.classList.toggle("hh-btn-go", task.next && task.next.expect === "nothing" && !closed());
      var short = $("hh-short");
      // Short only at the bin: where the person can see that it holds less.
      if (short) short.hidden = closed() || !task.next || ["bin", "product", "qty"].indexOf(task.next.expect) < 0;
      $("hh-qty").hidden = closed() || !qtyMakesSense(task);
      var ship = $("hh-ship");
      var shipping = !!ship && (task.status === "done" || (task.next && task.next.expect === "nothing"));
      if (ship) ship.hidden = !shipping;
      if (shipping) {
        // Packed: what is left is the parcel. The scan field makes room for the form (a tracking number is scanned
        // into its own field).
        $("hh-scan-form").hidden = true;
        $("hh-next").textContent = fmt("ship_prompt", { order: (task.reference || {}).order }) || promptOf(task);
        list.hidden = true;
        say("");
      }
      if (closed() && task.kind !== "pack") say(fmt("task_done"), "ok");
    }

    var base = DATA.api + "/tasks/" + task.id;
    answerHandler = function (item, res) {
      var body = res.body || {};
      if (item.task !== task.id) { // an older scan of another task, sent from this screen
        if (res.status >= 400) bad(errorText(body, res.status));
        return;
      }
      if (res.status >= 200 && res.status < 300) {
        if (body.task) task = body.task;
        else if (body.id === task.id) task = body;
        draw();
        if (item.kind === "complete") {
          good(fmt("finished"));
          if (task.kind !== "pack") setTimeout(function () { window.location.assign(DATA.list); }, 900);
        } else {
          good(task.status === "done" && task.kind !== "pack" ? fmt("task_done") : "");
        }
      } else {
        bad(errorText(body, res.status));
      }
      refocus();
    };

    function send(path, body, kind) {
      var item = { url: base + path, body: body, task: task.id, kind: kind, at: Date.now() };
      outboxAdd(item).then(function () { showUnsent(); kick(); });
    }

    onEnter = function (value, how) {
      var ship = $("hh-ship");
      if (ship && !ship.hidden) {
        // Packed: a scan now is the parcel's tracking label (the task takes no more scans).
        $("hh-carrier").value = "manual";
        $("hh-carrier").dispatchEvent(new Event("change"));
        $("hh-tracking").value = value;
        good("");
        return;
      }
      if (!how.scanned && /^\d{1,6}$/.test(value) && qtyMakesSense(task)) {
        var n = Number(value);
        if (n < 1) { bad(fmt("err_qty")); return; }
        if (task.next.expect === "qty") send("/scans", { id: newId(), qty: n }, "scan");
        else setPendingQty(n);
        return;
      }
      var body = { id: newId(), code: value };
      if (pendingQty !== null) { body.qty = pendingQty; setPendingQty(null); }
      if (damaged) { body.condition = "damaged"; setDamaged(false); }
      send("/scans", body, "scan");
    };

    // Receiving a transfer: "Damaged" marks the next item scan (then turns itself off: one damaged unit at a time).
    var damaged = false;
    function setDamaged(on) {
      damaged = on;
      if ($("hh-damaged")) $("hh-damaged").setAttribute("aria-pressed", on ? "true" : "false");
    }
    if ($("hh-damaged")) {
      $("hh-damaged").addEventListener("click", function () { setDamaged(!damaged); });
    }

    $("hh-qty").addEventListener("click", function () {
      askNumber(fmt("expect_qty", { sku: (task.next && task.next.sku) || "" }) || "", 1, function (n) {
        if (task.next && task.next.expect === "qty") send("/scans", { id: newId(), qty: n }, "scan");
        else setPendingQty(n);
      });
    });
    if ($("hh-short")) {
      $("hh-short").addEventListener("click", function () {
        askNumber(fmt("short_ask"), 0, function (n) { send("/short", { id: newId(), qty_found: n }, "short"); });
      });
    }
    $("hh-finish").addEventListener("click", function () { send("/complete", { id: newId() }, "complete"); });
    setUpCamera(function (code) { onEnter(code, { scanned: true }); });
    if ($("hh-ship")) setUpShipping(function () { return task; });
    draw();
  }

  function setUpShipping(getTask) {
    var form = $("hh-ship");
    var carrier = $("hh-carrier");
    var tracking = $("hh-tracking");
    function syncCarrier() { $("hh-tracking-label").hidden = carrier.value !== "manual"; }
    carrier.addEventListener("change", syncCarrier);
    syncCarrier();
    // A tracking number scanned into its field ends with Enter: that is not "ship now".
    tracking.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
    $("hh-add-parcel").addEventListener("click", function () {
      var first = form.querySelector(".hh-parcel");
      var copy = first.cloneNode(true);
      Array.prototype.forEach.call(copy.querySelectorAll("input"), function (i) { i.value = ""; });
      $("hh-parcels").appendChild(copy);
    });
    var busy = false;
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (busy) return;
      var task = getTask();
      var order = (task.reference && task.reference.order) || (task.lines.filter(function (l) { return l.order; })[0] || {}).order;
      var parcels = Array.prototype.map.call(form.querySelectorAll(".hh-parcel"), function (p) {
        var parcel = {};
        ["weight_g", "length_mm", "width_mm", "height_mm"].forEach(function (name) {
          var v = p.querySelector('[name="' + name + '"]').value.trim();
          if (v) parcel[name] = Number(v);
        });
        return parcel;
      });
      var body = { order_id: order, carrier: carrier.value, parcels: parcels };
      if (carrier.value === "manual") body.tracking = tracking.value.trim();
      var printer = form.querySelector('[name="printer"]').value;
      if (printer) body.printer = printer;
      busy = true;
      postJSON(DATA.api + "/shipments", body).then(function (res) {
        busy = false;
        if (res.status >= 200 && res.status < 300) {
          good(fmt("shipped", { tracking: (res.body && res.body.tracking) || "" }) || fmt("finished"));
          setTimeout(function () { window.location.assign(DATA.list); }, 1200);
        } else {
          bad(errorText(res.body, res.status));
        }
      }, function () { busy = false; bad(fmt("err_network")); });
    });
  }

  /* --- the task list: tap to claim and open ----------------------------------------------------------- */

  function setUpList() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-claim]"), function (button) {
      button.addEventListener("click", function () {
        if (button.disabled) return;
        button.disabled = true;
        postJSON(DATA.api + "/tasks/" + button.getAttribute("data-claim") + "/claim").then(function (res) {
          button.disabled = false;
          if (res.status >= 200 && res.status < 300) { window.location.assign(button.getAttribute("data-href")); return; }
          bad((fmt("claim_failed") || "") + ": " + errorText(res.body, res.status));
        }, function () { button.disabled = false; bad(fmt("err_network")); });
      });
    });
  }

  /* --- receive and move: scans resolved on the server -------------------------------------------------- */

  function chosenLocation() {
    var select = $("hh-location");
    if (select) return select.value || null;
    if (DATA.here) return DATA.here; // a screen of the user's own location (returns intake)
    var all = DATA.locations || [];
    return all.length === 1 ? all[0].code : null;
  }
  function locationData(code) {
    return (DATA.locations || []).filter(function (l) { return l.code === code; })[0] || null;
  }

  function resolve(code) {
    var body = { code: code };
    var loc = chosenLocation();
    if (loc) body.location = loc;
    return postJSON(DATA.resolve, body);
  }

  function setUpReceive() {
    var state = { reference: null, dock: null, lines: [] };
    var busy = false;

    function defaultDock() {
      var loc = locationData(chosenLocation());
      return loc && loc.docks.length ? loc.docks[0] : null;
    }

    function draw() {
      $("hh-reference").textContent = state.reference || "–";
      $("hh-dock").textContent = state.dock || defaultDock() || "–";
      $("hh-next").textContent = state.reference ? fmt("recv_items", { reference: state.reference }) : fmt("recv_reference");
      $("hh-receive").disabled = !state.reference || !state.lines.length;
      var list = $("hh-lines");
      list.textContent = "";
      state.lines.forEach(function (l, i) {
        var li = document.createElement("li");
        var sku = document.createElement("span");
        sku.className = "hh-line-sku";
        sku.textContent = l.sku;
        var count = document.createElement("span");
        count.className = "hh-line-count";
        count.textContent = String(l.qty);
        var where = document.createElement("span");
        where.className = "hh-line-where";
        where.textContent = [l.lot, l.expiry].filter(Boolean).join(" · ");
        var less = document.createElement("button");
        less.type = "button";
        less.className = "hh-line-less";
        less.textContent = "−";
        less.setAttribute("aria-label", "−1 " + l.sku);
        less.addEventListener("click", function () {
          l.qty -= 1;
          if (l.qty < 1) state.lines.splice(i, 1);
          draw();
        });
        li.appendChild(sku);
        li.appendChild(count);
        li.appendChild(less);
        li.appendChild(where);
        list.appendChild(li);
      });
    }

    function addItem(found, qty) {
      var key = [found.sku, found.lot || "", found.expiry || ""].join("|");
      var line = state.lines.filter(function (l) { return l.key === key; })[0];
      if (!line) {
        line = { key: key, sku: found.sku, lot: found.lot || null, expiry: found.expiry || null, qty: 0 };
        state.lines.push(line);
      }
      line.qty += qty;
    }

    // Scans resolve one after another, in the order they were made.
    var chain = Promise.resolve();
    onEnter = function (value, how) {
      if (!state.reference) {
        state.reference = value;
        $("hh-received").hidden = true;
        good("");
        draw();
        return;
      }
      if (!how.scanned && /^\d{1,6}$/.test(value)) {
        if (Number(value) < 1) bad(fmt("err_qty"));
        else setPendingQty(Number(value));
        return;
      }
      var qty = pendingQty || 1;
      setPendingQty(null);
      chain = chain.then(function () {
        return resolve(value).then(function (res) {
          var found = res.body || {};
          if (res.status !== 200) { bad(errorText(res.body, res.status)); return; }
          if (found.kind === "bin") {
            if (found.bin_kind !== "dock") { bad(fmt("err_not_dock", { bin: found.bin })); return; }
            state.dock = found.bin;
            good("");
          } else if (found.kind === "product") {
            if (found.track_lots && !found.lot) { bad(fmt("err_needs_lot", { sku: found.sku })); return; }
            addItem(found, qty);
            good(found.sku + (found.lot ? " · " + found.lot : "") + " +" + qty);
          } else {
            bad(fmt("err_not_an_item"));
          }
          draw();
        }, function () { bad(fmt("err_network")); });
      });
    };

    $("hh-qty").addEventListener("click", function () {
      askNumber(fmt("expect_qty", { sku: "" }) || "", 1, setPendingQty);
    });
    $("hh-restart").addEventListener("click", function () {
      state = { reference: null, dock: null, lines: [] };
      setPendingQty(null);
      say("");
      draw();
    });
    $("hh-receive").addEventListener("click", function () {
      if (busy) return;
      if (!state.reference) { bad(fmt("err_no_reference")); return; }
      if (!state.lines.length) { bad(fmt("err_no_lines")); return; }
      var loc = chosenLocation();
      if (!loc) { bad(fmt("err_no_location")); return; }
      var body = {
        reference: state.reference,
        location: loc,
        lines: state.lines.map(function (l) {
          var out = { sku: l.sku, qty: l.qty };
          if (l.lot) out.lot = l.lot;
          if (l.expiry) out.expiry = l.expiry;
          return out;
        }),
      };
      if (state.dock) body.bin = state.dock;
      busy = true;
      chain = chain.then(function () {
        return postJSON(DATA.receive, body).then(function (res) {
          busy = false;
          if (res.status === 200 || res.status === 201) {
            var link = $("hh-task-link");
            if (res.body.task_url) {
              link.href = res.body.task_url;
              $("hh-received").hidden = false;
            }
            good(res.body.task_url ? fmt("received") : fmt("received_no_task"));
            state = { reference: null, dock: null, lines: [] };
            draw();
          } else {
            bad(errorText(res.body, res.status));
          }
        }, function () { busy = false; bad(fmt("err_network")); });
      });
    });
    var select = $("hh-location");
    if (select) select.addEventListener("change", function () { state.dock = null; draw(); refocus(); });
    setUpCamera(function (code) { onEnter(code, { scanned: true }); });
    draw();
  }

  function setUpMove() {
    var state = { from: null, item: null, qty: 0 };
    var busy = false;

    function draw() {
      $("hh-from").textContent = state.from || "–";
      $("hh-item").textContent = state.item ? state.item.sku + (state.item.lot ? " · " + state.item.lot : "") : "–";
      $("hh-move-qty").textContent = state.qty ? String(state.qty) : "–";
      var text;
      if (!state.from) text = fmt("move_from");
      else if (!state.item) text = fmt("move_item", { bin: state.from });
      else text = fmt("move_to", { qty: state.qty, sku: state.item.sku, from: state.from });
      $("hh-next").textContent = text;
    }

    function moved(body) {
      var li = document.createElement("li");
      var sku = document.createElement("span");
      sku.className = "hh-line-sku";
      sku.textContent = fmt("moved", { qty: body.qty, sku: body.sku, from: body.from_bin, to: body.to_bin });
      li.appendChild(sku);
      $("hh-lines").insertBefore(li, $("hh-lines").firstChild);
    }

    var chain = Promise.resolve();
    onEnter = function (value, how) {
      if (!how.scanned && /^\d{1,6}$/.test(value) && state.item) {
        if (Number(value) < 1) bad(fmt("err_qty"));
        else { state.qty = Number(value); draw(); }
        return;
      }
      chain = chain.then(function () {
        return resolve(value).then(function (res) {
          var found = res.body || {};
          if (res.status !== 200) { bad(errorText(res.body, res.status)); return; }
          if (!state.from) {
            if (found.kind !== "bin") { bad(fmt("err_not_a_bin")); return; }
            state.from = found.bin;
            good("");
          } else if (!state.item) {
            if (found.kind !== "product") { bad(fmt("err_not_an_item")); return; }
            state.item = { sku: found.sku, lot: found.lot || null };
            state.qty = 1;
            good("");
          } else if (found.kind === "product" && found.sku === state.item.sku && (found.lot || null) === state.item.lot) {
            state.qty += 1; // one more of the same
            good("");
          } else if (found.kind === "bin") {
            return send(found.bin);
          } else {
            bad(fmt("err_not_a_bin"));
          }
          draw();
        }, function () { bad(fmt("err_network")); });
      });
    };

    function send(toBin) {
      if (busy) return null;
      var loc = chosenLocation();
      if (!loc) { bad(fmt("err_no_location")); return null; }
      var body = { location: loc, from_bin: state.from, to_bin: toBin, sku: state.item.sku, qty: state.qty };
      if (state.item.lot) body.lot = state.item.lot;
      busy = true;
      return postJSON(DATA.api + "/moves", body).then(function (res) {
        busy = false;
        if (res.status >= 200 && res.status < 300) {
          good(fmt("moved", { qty: body.qty, sku: body.sku, from: body.from_bin, to: body.to_bin }));
          moved(body);
          state = { from: null, item: null, qty: 0 };
        } else {
          bad(errorText(res.body, res.status));
        }
        draw();
      }, function () { busy = false; bad(fmt("err_network")); });
    }

    $("hh-qty").addEventListener("click", function () {
      if (!state.item) { bad(fmt("err_not_an_item")); return; }
      askNumber(fmt("expect_qty", { sku: state.item.sku }) || "", 1, function (n) { state.qty = n; draw(); });
    });
    $("hh-restart").addEventListener("click", function () {
      state = { from: null, item: null, qty: 0 };
      say("");
      draw();
    });
    var select = $("hh-location");
    if (select) select.addEventListener("change", function () { refocus(); });
    setUpCamera(function (code) { onEnter(code, { scanned: true }); });
    draw();
  }

  /* --- the pickup counter ------------------------------------------------------------------------------- */

  function setUpCounter() {
    var order = null; // the order as GET /api/v1/pickups shows it
    var handoverId = null; // one id per handover attempt of this order: a retry after a lost answer is applied once
    var busy = false;

    function statusText(status) { return fmt("status_" + status) || status; }

    function draw() {
      var box = $("hh-pickup");
      $("hh-next").textContent = order ? "" : fmt("counter_next");
      box.hidden = !order;
      var list = $("hh-counter-lines");
      list.textContent = "";
      if (!order) return;
      var pickup = order.pickup || {};
      var ready = order.status === "ready_for_pickup";
      $("hh-pickup-title").textContent = ready
        ? fmt("counter_found", { order: order.id, customer: (order.customer || {}).name || "", shelf: pickup.shelf || "" })
        : fmt("counter_not_ready", { order: order.id, status: statusText(order.status) });
      $("hh-handover").hidden = !ready;
      if (!ready) return;
      var template = $("hh-counter-line");
      order.lines.forEach(function (line) {
        var units = line.picked - line.collected - line.declined;
        if (units <= 0) return;
        var li = template.content.firstElementChild.cloneNode(true);
        li.setAttribute("data-sku", line.sku);
        li.setAttribute("data-units", String(units));
        li.querySelector(".hh-line-sku").textContent = line.sku;
        li.querySelector(".hh-line-units").textContent = fmt("counter_units", { n: units });
        li.querySelector("[data-declined]").setAttribute("max", String(units));
        list.appendChild(li);
      });
    }

    function show(res) {
      if (res.status !== 200) { bad(errorText(res.body, res.status)); return; }
      order = res.body;
      handoverId = newId();
      if (order.status === "ready_for_pickup") good(""); else bad(fmt("counter_not_ready", { order: order.id, status: statusText(order.status) }));
      draw();
    }

    function find(query) {
      return postJSON(DATA.api + "/pickups?" + query, undefined, "GET").then(show, function () { bad(fmt("err_network")); });
    }

    onEnter = function (value) { find("code=" + encodeURIComponent(value)); };

    $("hh-find").addEventListener("submit", function (e) {
      e.preventDefault();
      var number = $("hh-find-order").value.trim();
      var surname = $("hh-find-surname").value.trim();
      if (!/^\d+$/.test(number) || !surname) { bad(fmt("err_not_found")); return; }
      find("order=" + encodeURIComponent(number) + "&surname=" + encodeURIComponent(surname));
    });

    $("hh-handover").addEventListener("click", function () {
      if (!order || busy) return;
      var lines = [];
      var wrong = false;
      Array.prototype.forEach.call($("hh-counter-lines").children, function (li) {
        var units = Number(li.getAttribute("data-units"));
        var declined = Number(li.querySelector("[data-declined]").value || 0);
        if (!(declined >= 0 && declined <= units) || Math.floor(declined) !== declined) { wrong = true; return; }
        var line = { sku: li.getAttribute("data-sku"), collected: units - declined, declined: declined };
        if (declined) {
          line.condition = li.querySelector("[data-condition]").value;
          var reason = li.querySelector("[data-reason]").value.trim();
          if (reason) line.reason = reason;
        }
        lines.push(line);
      });
      if (wrong) { bad(fmt("err_qty")); return; }
      busy = true;
      postJSON(DATA.api + "/orders/" + order.id + "/handover", { id: handoverId, lines: lines }).then(function (res) {
        busy = false;
        if (res.status !== 200) { bad(errorText(res.body, res.status)); return; }
        good(fmt("counter_done", { order: res.body.id, status: statusText(res.body.status) }));
        order = null;
        draw();
      }, function () { busy = false; bad(fmt("err_network")); });
    });

    $("hh-restart").addEventListener("click", function () { order = null; say(""); draw(); });
    draw();
  }

  /* --- returns intake ------------------------------------------------------------------------------------- */

  function setUpReturns() {
    // ret: the return as GET /api/v1/returns shows it (an RMA scanned); walkIn: an order number typed instead
    var state = { ret: null, walkIn: null, items: [] };
    var busy = false;

    function expected(sku) {
      if (!state.ret) return null;
      var n = 0;
      state.ret.lines.forEach(function (l) { if (l.sku === sku) n += l.qty - l.received; });
      return n;
    }

    function draw() {
      var what = state.ret ? fmt("ret_rma", { rma: state.ret.rma }) : state.walkIn ? fmt("ret_order", { order: state.walkIn }) : null;
      $("hh-next").textContent = what ? fmt("ret_items", { what: what }) : fmt("ret_next");
      var list = $("hh-return-lines");
      var kept = {};
      Array.prototype.forEach.call(list.children, function (li) {
        kept[li.getAttribute("data-sku")] = {
          grade: li.querySelector("[data-grade]").value,
          disposition: li.querySelector("[data-disposition]").value,
        };
      });
      list.textContent = "";
      state.items.forEach(function (item) {
        var li = $("hh-return-line").content.firstElementChild.cloneNode(true);
        li.setAttribute("data-sku", item.sku);
        li.querySelector(".hh-line-sku").textContent = item.sku;
        li.querySelector(".hh-line-units").textContent = String(item.qty);
        var before = kept[item.sku];
        if (before) {
          li.querySelector("[data-grade]").value = before.grade;
          li.querySelector("[data-disposition]").value = before.disposition;
        }
        list.appendChild(li);
      });
      $("hh-take-in").hidden = !state.items.length;
    }

    function addItem(sku) {
      var item = state.items.filter(function (i) { return i.sku === sku; })[0];
      var have = item ? item.qty : 0;
      var left = expected(sku);
      if (left !== null && left <= 0) { bad(fmt("ret_not_on", { sku: sku })); return; }
      if (left !== null && have + 1 > left) { bad(fmt("ret_too_many", { n: left, sku: sku })); return; }
      if (item) item.qty += 1; else state.items.push({ sku: sku, qty: 1 });
      good("");
      draw();
    }

    onEnter = function (value) {
      if (!state.ret && !state.walkIn) {
        if (/^\d{1,10}$/.test(value)) { state.walkIn = Number(value); good(""); draw(); return; }
        postJSON(DATA.api + "/returns?rma=" + encodeURIComponent(value), undefined, "GET").then(function (res) {
          var found = res.status === 200 && res.body.items.length ? res.body.items[0] : null;
          if (!found) { bad(res.status === 200 ? fmt("err_not_found") : errorText(res.body, res.status)); return; }
          state.ret = found;
          good("");
          draw();
        }, function () { bad(fmt("err_network")); });
        return;
      }
      resolve(value).then(function (res) {
        if (res.status !== 200) { bad(errorText(res.body, res.status)); return; }
        if (res.body.kind !== "product") { bad(fmt("err_not_an_item")); return; }
        addItem(res.body.sku);
      }, function () { bad(fmt("err_network")); });
    };

    function intakeLines() {
      return Array.prototype.map.call($("hh-return-lines").children, function (li) {
        var sku = li.getAttribute("data-sku");
        var qty = state.items.filter(function (i) { return i.sku === sku; })[0].qty;
        return { sku: sku, qty: qty, grade: li.querySelector("[data-grade]").value, disposition: li.querySelector("[data-disposition]").value };
      });
    }

    function takeIn(ret, lines) {
      return postJSON(DATA.api + "/returns/" + ret.id + "/receive", { id: state.intakeId, location: DATA.here, lines: lines }).then(function (res) {
        busy = false;
        if (res.status !== 200) { bad(errorText(res.body, res.status)); return; }
        good(fmt("ret_done", { rma: res.body.rma, status: fmt("ret_status_" + res.body.status) || res.body.status }));
        state = { ret: null, walkIn: null, items: [] };
        draw();
      });
    }

    $("hh-take-in").addEventListener("click", function () {
      if (busy) return;
      if (!state.items.length) { bad(fmt("ret_nothing")); return; }
      var lines = intakeLines();
      busy = true;
      state.intakeId = state.intakeId || newId();
      var opened = state.ret ? Promise.resolve({ status: 200, body: state.ret }) : postJSON(DATA.api + "/returns", {
        order_id: state.walkIn,
        method: "store",
        store: DATA.here,
        lines: lines.map(function (l) { return { sku: l.sku, qty: l.qty }; }),
      });
      opened.then(function (res) {
        if (res.status !== 200 && res.status !== 201) { busy = false; bad(errorText(res.body, res.status)); return; }
        state.ret = res.body; // a retry of the intake goes to this return, not a new one
        return takeIn(res.body, lines);
      }).catch(function () { busy = false; bad(fmt("err_network")); });
    });

    $("hh-restart").addEventListener("click", function () { state = { ret: null, walkIn: null, items: [] }; say(""); draw(); });
    draw();
  }

  /* --- a counter PC's scanner, through its station agent ------------------------------------------------------ */

  // ?station=CODE: the scans the station's agent uploads (its serial scanner) arrive as server-sent events and
  // are taken exactly as a scan into the field: the same checks, flash and sound. Only scans made from now on;
  // a dropped stream reconnects by itself and resumes after the last scan it saw (Last-Event-ID).
  function listenToStation() {
    var line = $("hh-station");
    if (!DATA.station_events || !window.EventSource) return;
    var source = new EventSource(DATA.station_events);
    function state(name, key) {
      if (!line) return;
      line.setAttribute("data-state", name);
      line.textContent = fmt(key, { station: DATA.station }) || DATA.station;
    }
    source.addEventListener("open", function () { state("live", "station_live"); });
    source.addEventListener("error", function () { state("lost", "station_lost"); });
    source.addEventListener("scan", function (event) {
      var scan = null;
      try { scan = JSON.parse(event.data); } catch (e) { return; }
      if (scan && scan.raw && onEnter) onEnter(String(scan.raw), { scanned: true });
    });
  }

  /* --- start ------------------------------------------------------------------------------------------------- */

  if (PAGE === "task") setUpTask();
  else if (PAGE === "list") setUpList();
  else if (PAGE === "receive") setUpReceive();
  else if (PAGE === "move") setUpMove();
  else if (PAGE === "counter") setUpCounter();
  else if (PAGE === "returns") setUpReturns();
  listenToStation();
  // Every screen sends what is still in the outbox (scans made offline, then the page was left or reloaded).
  showUnsent();
  kick();
  // The test hook: what a browser test may read without running script of its own (the CSP forbids eval).
  if (app) app.setAttribute("data-ready", "1");
})();
