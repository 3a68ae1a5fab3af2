/*
 * CivicMap — a small Leaflet helper shared by every page (citizen, inspector, command center, leader, admin).
 *
 *   var m = CivicMap.create(element, {center: [lat, lng], zoom: 14, streets: true, grids: "view"});
 *   m.setCases([{id, lat, lng, light, label, url}]);   // light: green | yellow | red | none
 *   m.showGeoJSON(featureCollection, {color: "#1f5fa8"});
 *   m.pick(function (lat, lng) { ... });               // click (or device position) chooses a point
 *   m.locateDevice(function (lat, lng) { ... });       // navigator.geolocation, if allowed
 *
 * Declarative use: any element with a `data-map` attribute is set up by CivicMap.autoInit() on load:
 *   data-center="lat,lng"  data-zoom="15"  data-streets="1"  data-grids="view"
 *   data-cases="json-element-id"          (a <script type="application/json"> block with a list of cases)
 *   data-fit-zoom="15"                    (the closest zoom when fitting the map to the cases)
 *   data-geojson="json-element-id"        (a FeatureCollection to outline, e.g. a grid)
 *   data-pick-lng="input-id" data-pick-lat="input-id" data-pick-info="element-id"  (click to choose a point)
 *   data-locate="1"                       (centre on the device position and pick it)
 * Tiles: drawn only when <meta name="civicgrid-tile-url"> has a URL template; without tiles the map shows the
 * district's streets and unit grids on a plain background, which is enough to place a point.
 */
(function () {
  "use strict";

  var DISTRICT_CENTER = [31.315, 120.625];
  var LIGHT_COLORS = { green: "#2e7d32", yellow: "#d08700", red: "#c62828", none: "#1f5fa8" };
  var GRID_MIN_ZOOM = 15;

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") || "" : "";
  }

  var EN = meta("civicgrid-lang") === "en";
  function t(zh, en) { return EN ? en : zh; }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error((body && (body.detail || body.title)) || String(r.status)); }
        return body;
      });
    });
  }

  function readJSONBlock(id) {
    var el = id ? document.getElementById(id) : null;
    if (!el) { return null; }
    try { return JSON.parse(el.textContent || "null"); } catch (e) { return null; }
  }

  function CivicMapInstance(el, opts) {
    opts = opts || {};
    this.el = el;
    this.map = L.map(el, { zoomControl: true, attributionControl: !!meta("civicgrid-tile-url") });
    this.map.setView(opts.center || DISTRICT_CENTER, opts.zoom || 13);
    var tileUrl = opts.tileUrl !== undefined ? opts.tileUrl : meta("civicgrid-tile-url");
    if (tileUrl) {
      L.tileLayer(tileUrl, { maxZoom: 19, attribution: opts.attribution || "" }).addTo(this.map);
    } else {
      el.classList.add("map-no-tiles");
    }
    this.streetLayer = L.layerGroup().addTo(this.map);
    this.gridLayer = L.layerGroup().addTo(this.map);
    this.caseLayer = L.featureGroup().addTo(this.map);
    this.shapeLayer = L.featureGroup().addTo(this.map);
    this.loadedGrids = {};
    this.marker = null;
    if (opts.streets !== false) { this.showStreets(); }
    if (opts.grids === "view") { this.followGrids(); }
  }

  CivicMapInstance.prototype.showStreets = function () {
    var self = this;
    return getJSON("/api/v1/areas?level=street").then(function (fc) {
      L.geoJSON(fc, {
        interactive: false,
        style: function () { return { color: "#4a5d78", weight: 1.5, fill: true, fillColor: "#e9eef5", fillOpacity: 0.35 }; }
      }).addTo(self.streetLayer);
    }).catch(function () { /* the map still works without outlines */ });
  };

  CivicMapInstance.prototype.followGrids = function () {
    var self = this;
    var load = function () {
      if (self.map.getZoom() < GRID_MIN_ZOOM) { self.gridLayer.clearLayers(); self.loadedGrids = {}; return; }
      var b = self.map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
      getJSON("/api/v1/grids?bbox=" + bbox).then(function (fc) {
        var fresh = (fc.features || []).filter(function (f) { return !self.loadedGrids[f.id]; });
        fresh.forEach(function (f) { self.loadedGrids[f.id] = true; });
        L.geoJSON({ type: "FeatureCollection", features: fresh }, {
          style: function () { return { color: "#8797ad", weight: 0.6, fillOpacity: 0 }; },
          onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name || f.id, { sticky: true }); }
        }).addTo(self.gridLayer);
      }).catch(function () {});
    };
    this.map.on("moveend", load);
    load();
  };

  CivicMapInstance.prototype.showGeoJSON = function (fc, style) {
    if (!fc) { return; }
    var layer = L.geoJSON(fc, { style: function () { return style || { color: "#1f5fa8", weight: 2, fillOpacity: 0.08 }; } });
    layer.addTo(this.shapeLayer);
    return layer;
  };

  CivicMapInstance.prototype.setCases = function (cases) {
    var self = this;
    this.caseLayer.clearLayers();
    (cases || []).forEach(function (c) {
      var color = LIGHT_COLORS[c.light] || LIGHT_COLORS.none;
      var m = L.circleMarker([c.lat, c.lng], { radius: 7, color: "#ffffff", weight: 2, fillColor: color, fillOpacity: 0.95 });
      var box = document.createElement("div");
      var title = document.createElement(c.url ? "a" : "strong");
      title.textContent = c.label || c.number || "";
      if (c.url) { title.href = c.url; }
      box.appendChild(title);
      if (c.detail) { var d = document.createElement("div"); d.textContent = c.detail; box.appendChild(d); }
      m.bindPopup(box);
      m.addTo(self.caseLayer);
    });
  };

  CivicMapInstance.prototype.fitCases = function (maxZoom) {
    var b = this.caseLayer.getBounds();
    if (b.isValid()) { this.map.fitBounds(b.pad(0.3), { maxZoom: maxZoom || 17 }); }
  };

  CivicMapInstance.prototype.fitShapes = function (maxZoom) {
    var b = this.shapeLayer.getBounds();
    if (b.isValid()) { this.map.fitBounds(b.pad(0.5), { maxZoom: maxZoom || 17 }); }
  };

  CivicMapInstance.prototype.setMarker = function (lat, lng) {
    if (this.marker) { this.marker.setLatLng([lat, lng]); }
    else {
      this.marker = L.circleMarker([lat, lng], { radius: 9, color: "#ffffff", weight: 3, fillColor: "#c62828", fillOpacity: 1 });
      this.marker.addTo(this.map);
    }
  };

  CivicMapInstance.prototype.pick = function (onPick) {
    var self = this;
    this.onPick = onPick;
    this.map.on("click", function (e) { self.choose(e.latlng.lat, e.latlng.lng); });
  };

  CivicMapInstance.prototype.choose = function (lat, lng) {
    this.setMarker(lat, lng);
    if (this.onPick) { this.onPick(lat, lng); }
  };

  CivicMapInstance.prototype.locateDevice = function (onFound, onFail) {
    var self = this;
    if (!navigator.geolocation) { if (onFail) { onFail(); } return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = pos.coords.latitude, lng = pos.coords.longitude;
      self.map.setView([lat, lng], Math.max(self.map.getZoom(), 17));
      if (onFound) { onFound(lat, lng); }
    }, function () { if (onFail) { onFail(); } }, { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 });
  };

  function describePoint(lat, lng, infoEl) {
    if (!infoEl) { return; }
    infoEl.textContent = t("正在定位网格…", "Locating the grid…");
    infoEl.classList.remove("error");
    getJSON("/api/v1/locate?lng=" + lng.toFixed(6) + "&lat=" + lat.toFixed(6)).then(function (loc) {
      infoEl.textContent = [loc.street_name, loc.community_name, t("网格 ", "grid ") + loc.grid_code].filter(Boolean).join(" · ");
    }).catch(function (err) {
      infoEl.textContent = err.message || t("该位置不在本区范围内", "This point is outside the district");
      infoEl.classList.add("error");
    });
  }

  function setup(el) {
    var d = el.dataset;
    var center = d.center ? d.center.split(",").map(Number) : null;
    var m = new CivicMapInstance(el, {
      center: center && center.length === 2 && !isNaN(center[0]) ? center : null,
      zoom: d.zoom ? Number(d.zoom) : null,
      streets: d.streets !== "0",
      grids: d.grids || ""
    });
    var shapes = readJSONBlock(d.geojson);
    if (shapes) { m.showGeoJSON(shapes); }
    var cases = readJSONBlock(d.cases);
    if (cases) {
      m.setCases(cases);
      if (!center && cases.length) { m.fitCases(d.fitZoom ? Number(d.fitZoom) : 17); }
    }
    if (d.pickLng && d.pickLat) {
      var lngInput = document.getElementById(d.pickLng);
      var latInput = document.getElementById(d.pickLat);
      var info = d.pickInfo ? document.getElementById(d.pickInfo) : null;
      m.pick(function (lat, lng) {
        lngInput.value = lng.toFixed(6);
        latInput.value = lat.toFixed(6);
        describePoint(lat, lng, info);
        el.dispatchEvent(new CustomEvent("civicmap:pick", { detail: { lat: lat, lng: lng }, bubbles: true }));
      });
      var typed = function () {
        var lng = parseFloat(lngInput.value), lat = parseFloat(latInput.value);
        if (!isNaN(lng) && !isNaN(lat)) { m.setMarker(lat, lng); m.map.setView([lat, lng], Math.max(m.map.getZoom(), 16)); describePoint(lat, lng, info); }
      };
      lngInput.addEventListener("change", typed);
      latInput.addEventListener("change", typed);
      if (lngInput.value && latInput.value) { typed(); }
      else if (d.locate === "1") { m.locateDevice(function (lat, lng) { m.choose(lat, lng); }); }
    }
    el.civicMap = m;
    return m;
  }

  function autoInit() {
    if (typeof L === "undefined") { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-map]"), function (el) {
      if (!el.civicMap) { setup(el); }
    });
  }

  window.CivicMap = {
    create: function (el, opts) { return new CivicMapInstance(el, opts); },
    setup: setup,
    autoInit: autoInit,
    colors: LIGHT_COLORS,
    getJSON: getJSON
  };

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", autoInit); }
  else { autoInit(); }
})();
