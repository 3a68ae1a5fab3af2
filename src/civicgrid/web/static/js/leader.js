/*
 * The leader dashboard: ECharts trend and category charts from the page's JSON block (#leader-data), and a grid
 * choropleth (case density or overdue rate) from /web/api/leader/grids on a Leaflet canvas.
 * When everything is drawn, <html data-dashboard-ready="1"> is set (the benchmark and the browser tests wait on it).
 */
(function () {
  "use strict";

  var EN = (document.querySelector('meta[name="civicgrid-lang"]') || {}).content === "en";
  function t(zh, en) { return EN ? en : zh; }

  var INK = "#1d2733", MUTED = "#5b6878", LINE = "#e3e8ef", BRAND = "#1b4f8a", GOLD = "#c8a45a", RED = "#c62828", GREEN = "#2e7d32";
  var DENSITY = ["#eef3f9", "#cfe0f1", "#9ec3e6", "#5e9bd3", "#2d6fb3", "#123a66"];
  var LATE = ["#e8f3e9", "#fff2c7", "#fbd38d", "#f39a5b", "#dd5b3c", "#a31d1d"];
  var pending = 3;

  function mark(name) { if (window.performance && performance.mark) { performance.mark("leader:" + name); } }

  function ready() {
    pending -= 1;
    if (pending === 0) { mark("ready"); document.documentElement.setAttribute("data-dashboard-ready", "1"); }
  }

  function readData() {
    var el = document.getElementById("leader-data");
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") { ready(); return null; }
    var c = echarts.init(el, null, { renderer: "canvas" });
    var done = false;
    c.on("finished", function () { if (!done) { done = true; ready(); } });
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }

  var baseText = { color: MUTED, fontSize: 11 };

  function trendChart(d) {
    var tr = d.trend;
    var labels = tr.labels.map(function (s) { return s.slice(5); });
    chart("chart-trend", {
      animation: false,
      grid: { left: 44, right: 48, top: 36, bottom: 28 },
      tooltip: { trigger: "axis" },
      legend: { top: 0, textStyle: { color: INK, fontSize: 12 }, itemWidth: 14, itemHeight: 8 },
      xAxis: { type: "category", data: labels, axisLabel: baseText, axisLine: { lineStyle: { color: "#b9c3cf" } }, axisTick: { show: false } },
      yAxis: [
        { type: "value", minInterval: 1, name: t("件", "cases"), nameTextStyle: baseText, axisLabel: baseText, splitLine: { lineStyle: { color: LINE } } },
        { type: "value", name: "%", min: 0, max: 100, nameTextStyle: baseText, axisLabel: baseText, splitLine: { show: false } }
      ],
      series: [
        { name: t("上报", "Reported"), type: "bar", data: tr.reported, itemStyle: { color: "#9ec3e6" }, barMaxWidth: 14 },
        { name: t("结案", "Closed"), type: "line", data: tr.closed, symbol: "none", lineStyle: { width: 2, color: BRAND }, itemStyle: { color: BRAND } },
        { name: t("按期处置率", "On-time disposal"), type: "line", yAxisIndex: 1, data: tr.on_time_rate, connectNulls: true, symbol: "circle", symbolSize: 4, lineStyle: { width: 2, color: GOLD }, itemStyle: { color: GOLD } }
      ]
    });
  }

  function categoryChart(d) {
    var rows = d.categories.filter(function (r) { return r.code; }).reverse();
    chart("chart-categories", {
      animation: false,
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "item", formatter: function (p) { return p.name + "：" + p.value + t(" 件", " cases"); } },
      xAxis: { type: "value", minInterval: 1, axisLabel: baseText, splitLine: { lineStyle: { color: LINE } } },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { color: INK, fontSize: 12 }, axisTick: { show: false }, axisLine: { show: false } },
      series: [{
        type: "bar", data: rows.map(function (r) { return r.count; }), barMaxWidth: 16,
        itemStyle: { color: function (p) { return p.dataIndex >= rows.length - 3 ? BRAND : "#5e9bd3"; }, borderRadius: [0, 3, 3, 0] },
        label: { show: true, position: "right", color: INK, fontSize: 11 }
      }]
    });
  }

  // Class limits for case counts: from the quantiles of the grids that have cases (a count c is in class i+1
  // when c < cuts[i]); a sparse period falls back to 1 / 2 / 3–4 / ≥ 5.
  function countCuts(values) {
    var v = values.filter(function (x) { return x > 0; }).sort(function (a, b) { return a - b; });
    var cuts = [];
    [0.5, 0.75, 0.9, 0.97].forEach(function (q) {
      if (!v.length) { return; }
      var c = v[Math.min(v.length - 1, Math.floor(v.length * q))] + 1;
      if (c > 1 && (!cuts.length || c > cuts[cuts.length - 1])) { cuts.push(c); }
    });
    return cuts.length >= 2 ? cuts : [2, 3, 5];
  }

  function classOf(value, cuts) {
    if (value <= 0) { return 0; }
    for (var i = 0; i < cuts.length; i++) { if (value < cuts[i]) { return i + 1; } }
    return cuts.length + 1;
  }

  function gridMap() {
    var el = document.getElementById("leader-map");
    var legend = document.getElementById("leader-legend");
    if (!el || typeof CivicMap === "undefined") { ready(); return; }
    var m = CivicMap.create(el, { zoom: 13, streets: true });
    var renderer = L.canvas({ padding: 0.2 });
    var layer = null, data = null, metric = "density";

    function value(p) {
      if (metric === "late") { return p.due ? p.late / p.due : 0; }
      return p.n;
    }

    function draw() {
      if (!data) { return; }
      var palette = metric === "late" ? LATE : DENSITY;
      var cuts = metric === "late" ? [0.05, 0.1, 0.2, 0.35] : countCuts(data.features.map(function (f) { return f.properties.n; }));
      if (layer) { m.map.removeLayer(layer); }
      layer = L.geoJSON(data, {
        renderer: renderer,
        style: function (f) {
          var p = f.properties;
          var empty = metric === "late" ? !p.due : !p.n;
          return { color: "#ffffff", weight: 0.4, fillColor: empty ? "#f6f8fb" : palette[classOf(value(p), cuts)], fillOpacity: empty ? 0.5 : 0.88 };
        },
      });
      // One tooltip for the whole layer (not one per grid): its text is built when a grid is hovered.
      layer.bindTooltip(function (lyr) {
        var p = lyr.feature.properties;
        return (p.name || p.code) + " · " + p.code + "\n" + t("上报 ", "reported ") + p.n +
          " · " + t("应处置 ", "due ") + p.due + " · " + t("超期 ", "late ") + p.late;
      }, { sticky: true, className: "grid-tip" });
      layer.addTo(m.map);
      drawLegend(palette, cuts);
    }

    function legendItem(color, text) {
      var item = document.createElement("span");
      item.className = "legend-item";
      var sw = document.createElement("i");
      sw.className = "swatch";
      sw.style.backgroundColor = color;
      item.appendChild(sw);
      item.appendChild(document.createTextNode(text));
      legend.appendChild(item);
    }

    function drawLegend(palette, cuts) {
      legend.textContent = "";
      var title = document.createElement("strong");
      var late = metric === "late";
      title.textContent = late ? t("超期率（应处置案卷中超时的比例）", "Overdue rate (late share of cases due)")
        : t("本期上报件数 / 网格", "Cases reported per grid");
      legend.appendChild(title);
      legendItem("#f6f8fb", late ? t("无应处置", "nothing due") : "0");
      if (late) { legendItem(palette[0], "0%"); }
      var prev = late ? 0 : 1;
      cuts.forEach(function (c, i) {
        var text = late ? Math.round(prev * 100) + "–" + Math.round(c * 100) + "%" : (c - 1 > prev ? prev + "–" + (c - 1) : String(prev));
        legendItem(palette[i + 1], text);
        prev = c;
      });
      legendItem(palette[cuts.length + 1], "≥ " + (late ? Math.round(prev * 100) + "%" : prev));
    }

    Array.prototype.forEach.call(document.querySelectorAll("[data-metric]"), function (btn) {
      btn.addEventListener("click", function () {
        metric = btn.getAttribute("data-metric");
        Array.prototype.forEach.call(document.querySelectorAll("[data-metric]"), function (b) { b.classList.toggle("active", b === btn); });
        draw();
      });
    });

    CivicMap.getJSON(el.getAttribute("data-grids-url")).then(function (fc) {
      mark("grids-fetched");
      data = fc;
      draw();
      mark("map-drawn");
      m.map.options.zoomSnap = 0.25;
      if (layer) { m.map.fitBounds(layer.getBounds(), { padding: [6, 6] }); }
      ready();
    }).catch(function (err) {
      legend.textContent = t("网格数据加载失败：", "Could not load the grids: ") + (err.message || "");
      ready();
    });
  }

  mark("start");
  var data = readData();
  if (!data) { pending = 1; gridMap(); return; }
  gridMap();
  trendChart(data);
  categoryChart(data);
  mark("charts");
})();
