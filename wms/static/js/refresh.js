/* Panels that refresh themselves: every element with data-refresh="<seconds>" and an id is fetched again from the
   page's own address every so often and replaced in place, without a full reload (and without losing the scroll
   position or a form being filled elsewhere on the page). Paused while the tab is hidden. */
(function () {
  "use strict";
  var panels = Array.prototype.slice.call(document.querySelectorAll("[data-refresh][id]"));
  if (!panels.length || !window.fetch || !window.DOMParser) return;
  var every = Math.max(5, Math.min.apply(null, panels.map(function (p) { return Number(p.getAttribute("data-refresh")) || 30; })));
  function refresh() {
    if (document.hidden) return;
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        panels.forEach(function (panel) {
          var next = fresh.getElementById(panel.id);
          if (next && next.innerHTML !== panel.innerHTML) {
            panel.innerHTML = next.innerHTML;
            panel.setAttribute("data-refreshed", String(Date.now()));
          }
        });
      })
      .catch(function () { /* the next round tries again */ });
  }
  setInterval(refresh, every * 1000);
})();
