// The reports' charts, drawn with Chart.js from the tables beside them (the tables are what screen
// readers read and what the export writes), in the colours of the current theme; drawn again when the
// theme changes. No inline script: the page's CSP allows only our own files.
(function () {
  "use strict";
  // Okabe-Ito: told apart with the common colour-vision deficiencies, on light and dark backgrounds.
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"];
  var drawn = [];

  function themeColour(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function readTable(table) {
    var series = table.getAttribute("data-sd-series").split(",").filter(Boolean).map(Number);
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    return {
      labels: rows.map(function (row) { return row.cells[0].textContent.trim(); }),
      datasets: series.map(function (column, index) {
        var colour = PALETTE[index % PALETTE.length];
        return {
          label: heads[column],
          data: rows.map(function (row) {
            var raw = row.cells[column].getAttribute("data-value");
            return raw === "" || raw === null ? null : Number(raw);
          }),
          backgroundColor: colour,
          borderColor: colour,
          borderWidth: 2,
          pointRadius: rows.length > 40 ? 0 : 2,
          tension: 0.2,
        };
      }),
    };
  }

  function options(kind, text, grid) {
    var horizontal = kind === "hbar" || kind === "percent";
    var stacked = kind === "stacked";
    var axis = { ticks: { color: text }, grid: { color: grid }, border: { color: grid }, stacked: stacked };
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      indexAxis: horizontal ? "y" : "x",
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { labels: { color: text, boxWidth: 12 } } },
      scales: {
        x: Object.assign({}, axis, horizontal ? { beginAtZero: true } : {}, kind === "percent" ? { max: 100 } : {}),
        y: Object.assign({}, axis, horizontal ? {} : { beginAtZero: true, ticks: { color: text, precision: 0 } }),
      },
    };
  }

  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    drawn.forEach(function (chart) { chart.destroy(); });
    drawn = [];
    var text = themeColour("--bs-body-color", "#212529");
    var grid = themeColour("--bs-border-color", "#dee2e6");
    document.querySelectorAll("canvas[data-sd-chart-for]").forEach(function (canvas) {
      var table = document.getElementById(canvas.getAttribute("data-sd-chart-for"));
      if (!table) { return; }
      var kind = table.getAttribute("data-sd-chart");
      var data = readTable(table);
      if (kind === "hbar" || kind === "percent") {  // a bar per row: room for each label
        canvas.parentElement.style.height = Math.max(140, 60 + data.labels.length * 26 * Math.max(1, data.datasets.length * 0.7)) + "px";
      }
      drawn.push(new window.Chart(canvas, {
        type: kind === "line" ? "line" : "bar",
        data: data,
        options: options(kind, text, grid),
      }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw();
    new MutationObserver(draw).observe(document.documentElement, { attributes: true, attributeFilter: ["data-bs-theme"] });
  });
})();
