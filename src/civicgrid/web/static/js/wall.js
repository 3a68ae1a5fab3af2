/*
 * The wall screen (/wall): polls every panel's body (/wall/panel/NAME) and the map's open cases every
 * data-refresh-s seconds, rotates the side panels every data-rotate-s seconds, and keeps a clock.
 * A panel added by a domain (Domain.wall_panels) needs nothing here: it is a server-rendered fragment.
 */
(function () {
  "use strict";

  var body = document.body;
  var refreshS = Number(body.getAttribute("data-refresh-s")) || 30;
  var rotateS = Number(body.getAttribute("data-rotate-s")) || 20;
  var EN = (document.querySelector('meta[name="civicgrid-lang"]') || {}).content === "en";
  function t(zh, en) { return EN ? en : zh; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hms(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }

  function loadPanel(el) {
    var name = el.getAttribute("data-wall-panel");
    return fetch("/wall/panel/" + encodeURIComponent(name), { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) {
        if (r.status === 401 || r.redirected) { window.location.href = "/login?next=/wall"; return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) { el.classList.add("stale"); return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        el.replaceChildren.apply(el, Array.prototype.slice.call(doc.body.childNodes));
        el.classList.remove("stale");
      })
      .catch(function () { el.classList.add("stale"); });
  }

  var mapEl = document.getElementById("wall-map");
  var countEl = document.getElementById("wall-case-count");
  if (mapEl) {
    mapEl.addEventListener("civicmap:cases", function (e) {
      countEl.textContent = t("未结 ", "open ") + e.detail.total;
    });
  }

  function refresh() {
    var panels = document.querySelectorAll("[data-wall-panel]");
    Array.prototype.forEach.call(panels, loadPanel);
    if (mapEl && mapEl.civicMap) { mapEl.civicMap.loadCases(mapEl.getAttribute("data-cases-url")).catch(function () {}); }
    document.getElementById("wall-updated").textContent = t("更新于 ", "updated ") + hms(new Date());
  }

  var side = Array.prototype.slice.call(document.querySelectorAll(".wall-side .wall-panel"));
  var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-show-panel]"));
  var current = 0;
  function show(i) {
    current = (i + side.length) % side.length;
    side.forEach(function (el, k) { el.classList.toggle("active", k === current); });
    buttons.forEach(function (b, k) { b.classList.toggle("active", k === current); b.setAttribute("aria-pressed", k === current ? "true" : "false"); });
  }
  buttons.forEach(function (b, k) { b.addEventListener("click", function () { show(k); }); });
  if (side.length) { show(0); }

  function tick() { document.getElementById("wall-clock").textContent = hms(new Date()); }
  tick();
  setInterval(tick, 1000);
  // The first load: panels now; the map loads its cases itself (data-cases-url).
  Array.prototype.forEach.call(document.querySelectorAll("[data-wall-panel]"), loadPanel);
  document.getElementById("wall-updated").textContent = t("更新于 ", "updated ") + hms(new Date());
  setInterval(refresh, refreshS * 1000);
  if (side.length > 1) { setInterval(function () { show(current + 1); }, rotateS * 1000); }
})();
