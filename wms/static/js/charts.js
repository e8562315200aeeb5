/* Charts of the managers' pages, drawn with Chart.js served by the app itself (static/vendor: stores' networks are
   closed, no CDN). Every <canvas data-chart="<url>"> gets the chart its URL answers:
   {"type": "line"|"bar", "labels": [...], "datasets": [{"label", "data": [...]}], "stacked"?: bool, "unit"?: str}. */
(function () {
  "use strict";
  if (!window.Chart) return;
  var palette = ["#1f4e79", "#c0504d", "#4f8a3c", "#d58b00", "#7b4fa0", "#2a9d8f", "#8c564b", "#e377c2"];
  function draw(canvas) {
    fetch(canvas.getAttribute("data-chart"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (spec) {
        if (!spec) return;
        var datasets = spec.datasets.map(function (d, i) {
          var color = palette[i % palette.length];
          return { label: d.label, data: d.data, borderColor: color, backgroundColor: spec.type === "bar" ? color : color + "33",
                   fill: false, tension: 0.2, pointRadius: spec.labels.length > 60 ? 0 : 2 };
        });
        var stacked = !!spec.stacked;
        if (canvas._chart) canvas._chart.destroy();
        canvas._chart = new window.Chart(canvas, {
          type: spec.type,
          data: { labels: spec.labels, datasets: datasets },
          options: {
            animation: false, responsive: true, maintainAspectRatio: false,
            interaction: { mode: "index", intersect: false },
            scales: { x: { stacked: stacked, ticks: { maxTicksLimit: 12 } },
                      y: { stacked: stacked, beginAtZero: true, title: { display: !!spec.unit, text: spec.unit || "" } } },
            plugins: { legend: { display: datasets.length > 1 } }
          }
        });
        canvas.setAttribute("data-drawn", String(spec.labels.length));
      })
      .catch(function () { /* the page's tables say the same in figures */ });
  }
  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw);
})();
