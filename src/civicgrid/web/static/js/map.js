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
 *   data-cases-url="/web/api/…"           (a GeoJSON of cases fetched and drawn clustered: every matching case)
 *   data-basemap="0"                      (no base map, e.g. a map that only needs its own shapes)
 *
 * The base map: every map draws the district's street outlines, street and community names, named roads and
 * landmarks from /api/v1/basemap (one cached GeoJSON, fetched once per page). Tiles are drawn under it only
 * when <meta name="civicgrid-tile-url"> has a URL template (CIVICGRID_MAP_TILES_URL); without one no tile
 * request is ever made. <meta name="civicgrid-tile-crs"> = gcj02 shifts every WGS84 point drawn to GCJ-02
 * (AMap/Tencent tiles) and every picked point back; 天地图 (CGCS2000) and other WGS84 tiles need no shift.
 * Pages that draw their own GeoJSON use m.geoJSON(fc, options) (the same as L.geoJSON, with the shift).
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

  // --- WGS84 <-> GCJ-02 (the same published formula as geo/crs.py) -------------------------------------
  var GCJ_A = 6378245.0, GCJ_EE = 0.00669342162296594323, PI = Math.PI;
  function outOfChina(lng, lat) { return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function wgsToGcj(lng, lat) {
    if (outOfChina(lng, lat)) { return [lng, lat]; }
    var dx = lng - 105.0, dy = lat - 35.0, sq = Math.sqrt(Math.abs(dx));
    var wave = (20 * Math.sin(6 * dx * PI) + 20 * Math.sin(2 * dx * PI)) * 2 / 3;
    var tLat = -100 + 2 * dx + 3 * dy + 0.2 * dy * dy + 0.1 * dx * dy + 0.2 * sq + wave;
    tLat += (20 * Math.sin(dy * PI) + 40 * Math.sin(dy / 3 * PI)) * 2 / 3;
    tLat += (160 * Math.sin(dy / 12 * PI) + 320 * Math.sin(dy * PI / 30)) * 2 / 3;
    var tLng = 300 + dx + 2 * dy + 0.1 * dx * dx + 0.1 * dx * dy + 0.1 * sq + wave;
    tLng += (20 * Math.sin(dx * PI) + 40 * Math.sin(dx / 3 * PI)) * 2 / 3;
    tLng += (150 * Math.sin(dx / 12 * PI) + 300 * Math.sin(dx / 30 * PI)) * 2 / 3;
    var rad = lat / 180 * PI, magic = 1 - GCJ_EE * Math.sin(rad) * Math.sin(rad), sm = Math.sqrt(magic);
    var dLat = (tLat * 180) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sm) * PI);
    var dLng = (tLng * 180) / (GCJ_A / sm * Math.cos(rad) * PI);
    return [lng + dLng, lat + dLat];
  }
  function gcjToWgs(lng, lat) {
    var x = lng, y = lat;
    for (var i = 0; i < 30; i++) {
      var g = wgsToGcj(x, y), ex = g[0] - lng, ey = g[1] - lat;
      x -= ex; y -= ey;
      if (Math.abs(ex) < 1e-10 && Math.abs(ey) < 1e-10) { break; }
    }
    return [x, y];
  }
  var GCJ = meta("civicgrid-tile-crs") === "gcj02" && !!meta("civicgrid-tile-url");
  // WGS84 (stored) -> the map's latlng, and back.
  function toMap(lat, lng) { if (!GCJ) { return L.latLng(lat, lng); } var g = wgsToGcj(lng, lat); return L.latLng(g[1], g[0]); }
  function fromMap(ll) { if (!GCJ) { return { lat: ll.lat, lng: ll.lng }; } var w = gcjToWgs(ll.lng, ll.lat); return { lat: w[1], lng: w[0] }; }
  function coordsToLatLng(c) { return toMap(c[1], c[0]); }

  // --- The base map ----------------------------------------------------------------------------------------
  var basemapRequest = null;  // one request per page, shared by every map on it
  function loadBasemap() {
    if (!basemapRequest) { basemapRequest = getJSON("/api/v1/basemap"); }
    return basemapRequest;
  }
  var LANDMARK_SIGNS = { government: "政", hospital: "医", school: "学", park: "园", station: "站", market: "市", scenic: "景" };
  function label(text, cls, latlng, pane) {
    return L.marker(latlng, {
      pane: pane, interactive: false, keyboard: false,
      icon: L.divIcon({ className: "cm-label " + cls, html: "", iconSize: null })
    }).on("add", function (e) {
      var el = e.target.getElement();
      if (el && !el.firstChild) { var span = document.createElement("span"); span.textContent = text; el.appendChild(span); }
    });
  }
  function midpoint(coords) {
    var line = coords.length && typeof coords[0][0] === "number" ? coords : (coords[0] || []);
    return line.length ? line[Math.floor(line.length / 2)] : null;
  }
  function zoomClass(z) { return z >= 16 ? "cm-z-high" : (z >= 14 ? "cm-z-mid" : "cm-z-low"); }

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
    var tileUrl = opts.tileUrl !== undefined ? opts.tileUrl : meta("civicgrid-tile-url");
    var maxZoom = Number(meta("civicgrid-tile-max-zoom")) || 18;
    this.map = L.map(el, { zoomControl: true, attributionControl: !!tileUrl, maxZoom: tileUrl ? maxZoom : 19 });
    var center = opts.center || DISTRICT_CENTER;
    this.map.setView(toMap(center[0], center[1]), opts.zoom || 13);
    if (tileUrl) {
      var sub = meta("civicgrid-tile-subdomains");
      L.tileLayer(tileUrl, {
        maxZoom: maxZoom, subdomains: sub || "abc",
        attribution: opts.attribution || meta("civicgrid-tile-attribution")
      }).addTo(this.map);
    } else {
      el.classList.add("map-no-tiles");
    }
    // Panes: street fills under everything; roads and names above a page's own areas (a choropleth), under
    // the cases.
    this.map.createPane("cm-fill").style.zIndex = 250;
    this.map.createPane("cm-roads").style.zIndex = 420;
    this.map.createPane("cm-labels").style.zIndex = 450;
    this.map.getPane("cm-roads").style.pointerEvents = "none";
    this.map.getPane("cm-labels").style.pointerEvents = "none";
    this.streetLayer = L.layerGroup().addTo(this.map);
    this.gridLayer = L.layerGroup().addTo(this.map);
    this.caseLayer = L.featureGroup().addTo(this.map);
    this.shapeLayer = L.featureGroup().addTo(this.map);
    this.loadedGrids = {};
    this.marker = null;
    var self = this;
    el.classList.add(zoomClass(this.map.getZoom()));
    this.map.on("zoomend", function () {
      el.classList.remove("cm-z-low", "cm-z-mid", "cm-z-high");
      el.classList.add(zoomClass(self.map.getZoom()));
    });
    if (opts.basemap !== false && opts.streets !== false) { this.showBasemap(); }
    if (opts.grids === "view") { this.followGrids(); }
  }

  // Streets (outlines and names), community names, named roads and landmarks, from the database.
  CivicMapInstance.prototype.showBasemap = function () {
    var self = this;
    var pane = { fill: "cm-fill", roads: "cm-roads", labels: "cm-labels" };
    return loadBasemap().then(function (fc) {
      var group = self.streetLayer;
      (fc.features || []).forEach(function (f) {
        var p = f.properties || {};
        if (p.layer === "street") {
          L.geoJSON(f, {
            pane: pane.fill, interactive: false, coordsToLatLng: coordsToLatLng,
            style: function () { return { color: "#4a5d78", weight: 1.5, dashArray: "6 4", fill: true, fillColor: "#e9eef5", fillOpacity: 0.35 }; }
          }).addTo(group);
          label(p.name, "cm-street", toMap(p.label_lat, p.label_lng), pane.labels).addTo(group);
        } else if (p.layer === "community") {
          var c = f.geometry.coordinates;
          label(p.name, "cm-community", toMap(c[1], c[0]), pane.labels).addTo(group);
        } else if (p.layer === "road") {
          L.geoJSON(f, { pane: pane.roads, interactive: false, coordsToLatLng: coordsToLatLng,
            style: function () { return { color: "#ffffff", weight: 5, opacity: 0.95, className: "cm-road-casing" }; } }).addTo(group);
          L.geoJSON(f, { pane: pane.roads, interactive: false, coordsToLatLng: coordsToLatLng,
            style: function () { return { color: "#c9b27c", weight: 2.5, opacity: 1, className: "cm-road" }; } }).addTo(group);
          var mid = midpoint(f.geometry.coordinates);
          if (mid) { label(p.name, "cm-road-name", toMap(mid[1], mid[0]), pane.labels).addTo(group); }
        } else if (p.layer === "landmark") {
          var pt = f.geometry.coordinates;
          L.marker(toMap(pt[1], pt[0]), {
            pane: pane.labels, interactive: false, keyboard: false,
            icon: L.divIcon({ className: "cm-landmark cm-kind-" + p.kind, html: "", iconSize: null })
          }).on("add", function (e) {
            var box = e.target.getElement();
            if (!box || box.firstChild) { return; }
            var sign = document.createElement("b");
            sign.textContent = LANDMARK_SIGNS[p.kind] || "•";
            var name = document.createElement("span");
            name.textContent = p.name;
            box.appendChild(sign);
            box.appendChild(name);
          }).addTo(group);
        }
      });
      self.el.classList.add("cm-basemap-ready");
      if (self.fitDistrict) { self.map.invalidateSize(); self.map.fitBounds(self.streetLayer.getLayers().length ? L.featureGroup(self.streetLayer.getLayers().filter(function (l) { return l.getBounds; })).getBounds() : self.map.getBounds()); }
    }).catch(function () { /* the map still works without its base map */ });
  };
  CivicMapInstance.prototype.showStreets = CivicMapInstance.prototype.showBasemap;

  // L.geoJSON with the map's coordinate shift (for pages that draw their own WGS84 GeoJSON).
  CivicMapInstance.prototype.geoJSON = function (fc, options) {
    var o = {};
    Object.keys(options || {}).forEach(function (k) { o[k] = options[k]; });
    o.coordsToLatLng = coordsToLatLng;
    return L.geoJSON(fc, o);
  };

  CivicMapInstance.prototype.followGrids = function () {
    var self = this;
    var load = function () {
      if (self.map.getZoom() < GRID_MIN_ZOOM) { self.gridLayer.clearLayers(); self.loadedGrids = {}; return; }
      var b = self.map.getBounds(), sw = fromMap(b.getSouthWest()), ne = fromMap(b.getNorthEast());
      var bbox = [sw.lng, sw.lat, ne.lng, ne.lat].map(function (v) { return v.toFixed(5); }).join(",");
      getJSON("/api/v1/grids?bbox=" + bbox).then(function (fc) {
        var fresh = (fc.features || []).filter(function (f) { return !self.loadedGrids[f.id]; });
        fresh.forEach(function (f) { self.loadedGrids[f.id] = true; });
        self.geoJSON({ type: "FeatureCollection", features: fresh }, {
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
    var layer = this.geoJSON(fc, { style: function () { return style || { color: "#1f5fa8", weight: 2, fillOpacity: 0.08 }; } });
    layer.addTo(this.shapeLayer);
    return layer;
  };

  // cases: [{lat, lng, light, label, detail, url}]; options.cluster groups them (markercluster) when loaded.
  CivicMapInstance.prototype.setCases = function (cases, options) {
    var self = this;
    this.caseLayer.clearLayers();
    var target = this.caseLayer;
    if (options && options.cluster && L.markerClusterGroup) {
      target = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 45, chunkedLoading: true });
      target.addTo(this.caseLayer);
    }
    (cases || []).forEach(function (c) {
      var color = LIGHT_COLORS[c.light] || LIGHT_COLORS.none;
      var m = L.circleMarker(toMap(c.lat, c.lng), { radius: 7, color: "#ffffff", weight: 2, fillColor: color, fillOpacity: 0.95 });
      var box = document.createElement("div");
      var title = document.createElement(c.url ? "a" : "strong");
      title.textContent = c.label || c.number || "";
      if (c.url) { title.href = c.url; }
      box.appendChild(title);
      if (c.detail) { var d = document.createElement("div"); d.textContent = c.detail; box.appendChild(d); }
      m.bindPopup(box);
      m.addTo(target);
    });
    this.el.setAttribute("data-case-count", String((cases || []).length));
  };

  // Every case of a GeoJSON endpoint (points with the properties of setCases), clustered.
  CivicMapInstance.prototype.loadCases = function (url, fitZoom) {
    var self = this;
    return getJSON(url).then(function (fc) {
      var cases = (fc.features || []).map(function (f) {
        var p = f.properties || {};
        return { lat: f.geometry.coordinates[1], lng: f.geometry.coordinates[0], light: p.light, label: p.label,
          detail: p.detail, url: p.url };
      });
      self.setCases(cases, { cluster: true });
      if (fitZoom) { self.fitCases(fitZoom); }
      self.el.dispatchEvent(new CustomEvent("civicmap:cases", { detail: { count: cases.length, total: fc.total }, bubbles: true }));
      return fc;
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
    if (this.marker) { this.marker.setLatLng(toMap(lat, lng)); }
    else {
      this.marker = L.circleMarker(toMap(lat, lng), { radius: 9, color: "#ffffff", weight: 3, fillColor: "#c62828", fillOpacity: 1 });
      this.marker.addTo(this.map);
    }
  };

  CivicMapInstance.prototype.pick = function (onPick) {
    var self = this;
    this.onPick = onPick;
    this.map.on("click", function (e) { var w = fromMap(e.latlng); self.choose(w.lat, w.lng); });
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
      self.map.setView(toMap(lat, lng), Math.max(self.map.getZoom(), 17));
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
      basemap: d.basemap !== "0",
      grids: d.grids || ""
    });
    if (d.fitDistrict === "1") { m.fitDistrict = true; }
    if (d.casesUrl) {
      var countInfo = d.countInfo ? document.getElementById(d.countInfo) : null;
      m.loadCases(d.casesUrl, center || m.fitDistrict ? null : (d.fitZoom ? Number(d.fitZoom) : 17)).then(function (fc) {
        if (!countInfo || fc.total === undefined) { return; }
        countInfo.textContent = fc.total > fc.shown
          ? t("地图显示最新的 " + fc.shown + " 件（共 " + fc.total + " 件匹配）", "The map shows the latest " + fc.shown + " of " + fc.total + " matching cases")
          : t("地图显示全部 " + fc.total + " 件匹配案卷", "The map shows all " + fc.total + " matching cases");
      }).catch(function () {
        if (countInfo) { countInfo.textContent = t("案卷地图加载失败", "Could not load the cases map"); }
      });
    }
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
        if (!isNaN(lng) && !isNaN(lat)) { m.setMarker(lat, lng); m.map.setView(toMap(lat, lng), Math.max(m.map.getZoom(), 16)); describePoint(lat, lng, info); }
      };
      lngInput.addEventListener("change", typed);
      latInput.addEventListener("change", typed);
      if (lngInput.value && latInput.value) { typed(); }
      else if (d.locate === "1") { m.locateDevice(function (lat, lng) { m.choose(lat, lng); }); }
    }
    el.civicMap = m;
    return m;
  }

  // The citizen form's hint: open reports of the chosen category within ~100 m of the chosen point.
  //   <div data-nearby data-nearby-lng="lng" data-nearby-lat="lat" data-nearby-category="category_code">
  function nearbyHint(box) {
    var d = box.dataset;
    var lngInput = document.getElementById(d.nearbyLng), latInput = document.getElementById(d.nearbyLat);
    var catInput = document.getElementById(d.nearbyCategory);
    if (!lngInput || !latInput || !catInput) { return; }
    var seq = 0;
    function check() {
      var lng = parseFloat(lngInput.value), lat = parseFloat(latInput.value), cat = catInput.value;
      var mine = ++seq;
      if (isNaN(lng) || isNaN(lat) || !cat) { box.hidden = true; return; }
      getJSON("/web/api/nearby?lng=" + lng.toFixed(6) + "&lat=" + lat.toFixed(6) + "&category=" + encodeURIComponent(cat))
        .then(function (res) {
          if (mine !== seq) { return; }
          box.textContent = "";
          if (!res.count) { box.hidden = true; return; }
          var title = document.createElement("strong");
          title.textContent = t("已有人上报：附近 " + res.radius_m + " 米内有 " + res.count + " 件同类问题正在办理",
            "Already reported: " + res.count + " open report(s) of this kind within " + res.radius_m + " m");
          box.appendChild(title);
          var list = document.createElement("ul");
          res.reports.forEach(function (r) {
            var li = document.createElement("li");
            li.textContent = [r.category, r.status, r.day, t("约 " + r.distance_m + " 米", "about " + r.distance_m + " m")].join(" · ");
            list.appendChild(li);
          });
          box.appendChild(list);
          var more = document.createElement("p");
          more.className = "small";
          more.textContent = t("如果是同一个问题，您仍可提交（我也遇到了）：我们会与已有上报合并处理，并同样告知您结果。",
            "If it is the same problem you may still submit (I have seen it too): it is merged with the earlier report and you are told the outcome as well.");
          box.appendChild(more);
          box.hidden = false;
        }).catch(function () { if (mine === seq) { box.hidden = true; } });
    }
    document.addEventListener("civicmap:pick", check);
    [lngInput, latInput, catInput].forEach(function (el) { el.addEventListener("change", check); });
    check();
  }

  function autoInit() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-nearby]"), function (el) {
      if (!el.nearbyReady) { el.nearbyReady = true; nearbyHint(el); }
    });
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
    getJSON: getJSON,
    toMap: toMap,
    fromMap: fromMap,
    wgsToGcj: wgsToGcj,
    gcjToWgs: gcjToWgs
  };

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", autoInit); }
  else { autoInit(); }
})();
