// Draws every <canvas data-chart="ID"> from the JSON in <script id="ID" type="application/json">.
// Data arrive as JSON (no inline script, so the strict CSP holds); each chart's page also
// renders the same numbers as an HTML table for screen readers and exact reading.
(function () {
  "use strict";
  var PALETTE = ["#0b5cad", "#1a7f37", "#9a6700", "#8250df", "#b42318", "#57606a"];

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.datasets.map(function (ds, i) {
      return { label: ds.label, data: ds.data, backgroundColor: ds.color || PALETTE[i % PALETTE.length] };
    });
    new Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: spec.horizontal ? "y" : "x",
        scales: {
          x: { stacked: !!spec.stacked, title: { display: !!spec.xTitle, text: spec.xTitle || "" } },
          y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 },
               title: { display: !!spec.yTitle, text: spec.yTitle || "" } }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { drawAll(evt.target); });
})();
