/* The stock search box answers as you type (and as a scanner types: a wedge scanner's Enter opens the one product
   it names). Served by the app; no framework. */
(function () {
  "use strict";
  var form = document.getElementById("stock-search");
  if (!form) return;
  var input = document.getElementById("q");
  var body = document.querySelector("#stock-hits tbody");
  var none = document.getElementById("stock-none");
  var url = form.getAttribute("data-suggest");
  var timer = null;
  var asked = 0;
  var lastItems = [];

  function cell(tag, text, cls) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = text;
    return el;
  }

  function draw(items) {
    lastItems = items;
    while (body.firstChild) body.removeChild(body.firstChild);
    items.forEach(function (item) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      var a = cell("a", item.sku, "code");
      a.href = item.url;
      th.appendChild(a);
      if (item.lot) { th.appendChild(document.createTextNode(" ")); th.appendChild(cell("span", "lot " + item.lot, "tag")); }
      tr.appendChild(th);
      tr.appendChild(cell("td", item.name));
      tr.appendChild(cell("td", String(item.on_hand), "num"));
      tr.appendChild(cell("td", String(item.reserved), "num"));
      tr.appendChild(cell("td", String(item.available), "num"));
      body.appendChild(tr);
    });
    if (none) none.hidden = items.length > 0;
    form.setAttribute("data-count", String(items.length));
  }

  function ask() {
    var q = input.value.trim();
    var mine = ++asked;
    if (!q) { draw([]); return; }
    fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) { if (mine === asked) draw(data.items || []); })
      .catch(function () { /* the form still works without the suggestions */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 150);
  });
  form.addEventListener("submit", function (event) {
    // A scan names one product: open it rather than listing it.
    if (lastItems.length === 1 && lastItems[0].sku && input.value.trim()) {
      event.preventDefault();
      window.location.href = lastItems[0].url;
    }
  });
})();
