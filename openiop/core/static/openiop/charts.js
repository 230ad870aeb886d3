// Draws every <canvas data-chart="ID"> from the JSON in <script id="ID" type="application/json">.
// Data arrive as JSON (no inline script, so the strict CSP holds); each chart's page also
// renders the same numbers as an HTML table for screen readers and exact reading.
//
// Spec: {type: "bar" (default) | "line", labels, datasets: [{label, data, color?}],
//        stacked?, horizontal?, xTitle?, yTitle?, yMin?, yMax?,
//        references?: [{value, label?, color?}], referenceColor?}
// `references` draws dashed horizontal lines (e.g. severity band edges, a clinical cutoff).
// Line datasets may also set: pointColors (one colour per point, e.g. red where a score is
// outside the expected range), pointRadius, dashed (true), and fill ("+1": shade down to the
// next dataset, e.g. an expected-recovery corridor's upper edge to its lower) with background.
(function () {
  "use strict";
  var PALETTE = ["#0b5cad", "#1a7f37", "#9a6700", "#8250df", "#b42318", "#57606a"];

  // Horizontal reference lines, drawn after the datasets by a plain plugin object.
  var referenceLines = {
    id: "openiopReferences",
    afterDatasetsDraw: function (chart, _args, options) {
      var lines = (options && options.lines) || [];
      var y = chart.scales.y;
      var area = chart.chartArea;
      if (!y || !area || !lines.length) { return; }
      var ctx = chart.ctx;
      lines.forEach(function (line) {
        var py = y.getPixelForValue(line.value);
        if (py < area.top || py > area.bottom) { return; }
        ctx.save();
        ctx.strokeStyle = line.color || options.color || "#8c959f";
        ctx.fillStyle = ctx.strokeStyle;
        ctx.lineWidth = 1;
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(area.left, py);
        ctx.lineTo(area.right, py);
        ctx.stroke();
        if (line.label) {
          ctx.setLineDash([]);
          ctx.font = "11px sans-serif";
          ctx.textAlign = "right";
          ctx.fillText(line.label, area.right - 2, py - 3);
        }
        ctx.restore();
      });
    }
  };

  function dataset(spec, ds, i) {
    var color = ds.color || PALETTE[i % PALETTE.length];
    var out = { label: ds.label, data: ds.data, backgroundColor: color };
    if (spec.type === "line") {
      out.borderColor = color;
      out.fill = ds.fill || false;
      out.pointRadius = typeof ds.pointRadius === "number" ? ds.pointRadius : 4;
      out.spanGaps = true;
      if (ds.fill && ds.background) { out.backgroundColor = ds.background; }
      if (ds.dashed) { out.borderDash = [6, 4]; }
      if (ds.pointColors) {
        out.pointBackgroundColor = ds.pointColors;
        out.pointBorderColor = ds.pointColors;
      }
    }
    return out;
  }

  function yScale(spec) {
    var y = { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 },
              title: { display: !!spec.yTitle, text: spec.yTitle || "" } };
    if (typeof spec.yMin === "number") { y.min = spec.yMin; }
    if (typeof spec.yMax === "number") { y.max = spec.yMax; }
    return y;
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") { return; }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.datasets.map(function (ds, i) { return dataset(spec, ds, i); });
    new Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: datasets },
      plugins: [referenceLines],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: spec.horizontal ? "y" : "x",
        scales: {
          x: { stacked: !!spec.stacked, title: { display: !!spec.xTitle, text: spec.xTitle || "" } },
          y: yScale(spec)
        },
        plugins: {
          legend: { position: "bottom" },
          openiopReferences: { lines: spec.references || [], color: spec.referenceColor }
        }
      }
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (evt) { drawAll(evt.target); });
})();
