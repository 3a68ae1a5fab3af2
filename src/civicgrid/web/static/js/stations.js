/*
 * The station map (monitoring pages): each station a dot in the official colour of its current AQI level or
 * water class, read from a <script type="application/json"> block named by data-points. The table beside it
 * carries the same facts, so the page works without JavaScript.
 */
(function () {
  "use strict";

  function read(id) {
    var el = document.getElementById(id);
    if (!el) { return []; }
    try { return JSON.parse(el.textContent || "[]") || []; } catch (e) { return []; }
  }

  function setup(el) {
    if (typeof L === "undefined" || !window.CivicMap) { return; }
    var points = read(el.getAttribute("data-points"));
    var zoom = Number(el.getAttribute("data-zoom")) || 13;
    var first = points[0];
    var m = CivicMap.create(el, { zoom: zoom, center: points.length === 1 ? [first.lat, first.lng] : null });
    // Above the base map's names and landmarks (map.js puts them at 450), below popups.
    if (!m.map.getPane("station-dots")) { m.map.createPane("station-dots").style.zIndex = 620; }
    var group = L.featureGroup().addTo(m.map);
    points.forEach(function (p) {
      var dot = L.circleMarker(CivicMap.toMap(p.lat, p.lng), {
        pane: "station-dots", radius: 9, color: "#1f2933", weight: 1.5, fillColor: p.color, fillOpacity: 0.95,
        className: "station-dot station-mn-" + p.mn
      });
      var box = document.createElement("div");
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.name + " (" + p.mn + ")";
      box.appendChild(link);
      var detail = document.createElement("div");
      detail.textContent = p.value + " · " + p.status;
      box.appendChild(detail);
      dot.bindPopup(box);
      dot.bindTooltip(p.name + " " + p.value);
      dot.addTo(group);
    });
    if (points.length > 1) { m.map.fitBounds(group.getBounds().pad(0.2), { maxZoom: 16 }); }
    el.setAttribute("data-station-count", String(points.length));
    el.civicMap = m;
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-station-map]"), function (el) {
      if (!el.civicMap) { setup(el); }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();
