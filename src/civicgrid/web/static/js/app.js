/*
 * CivicGrid page behaviours (no inline scripts: everything is wired from data-* attributes).
 *   [data-confirm="…"]          on a form: ask before submitting
 *   input[type=file][data-preview="id"]   show thumbnails of the chosen photos in element #id
 *   [data-suggest]              on a textarea: fetch category suggestions from /web/api/suggest (options below)
 *       data-suggest-target="select-id"  data-suggest-list="element-id"
 *   [data-geo-sort]             on a link/container: reload the page once with ?lng=&lat= from the device position
 *   [data-autosubmit]           on a select/checkbox: submit its form on change
 */
(function () {
  "use strict";

  var EN = (document.querySelector('meta[name="civicgrid-lang"]') || {}).content === "en";
  function t(zh, en) { return EN ? en : zh; }

  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }

  function confirmForms() {
    each("form[data-confirm]", function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); }
      });
    });
  }

  function photoPreviews() {
    each("input[type=file][data-preview]", function (input) {
      var box = document.getElementById(input.getAttribute("data-preview"));
      if (!box) { return; }
      input.addEventListener("change", function () {
        box.textContent = "";
        Array.prototype.slice.call(input.files || [], 0, 9).forEach(function (file) {
          if (!/^image\//.test(file.type)) { return; }
          // A data: URL (the CSP allows data: images, not blob:).
          var reader = new FileReader();
          reader.addEventListener("load", function () {
            var img = document.createElement("img");
            img.alt = file.name;
            img.src = String(reader.result);
            box.appendChild(img);
          });
          reader.readAsDataURL(file);
        });
      });
    });
  }

  function suggestions() {
    each("[data-suggest]", function (area) {
      var select = document.getElementById(area.getAttribute("data-suggest-target"));
      var list = document.getElementById(area.getAttribute("data-suggest-list"));
      if (!list) { return; }
      var timer = null, last = "";
      var run = function () {
        var text = area.value.trim();
        if (text.length < 4 || text === last) { return; }
        last = text;
        fetch("/web/api/suggest?text=" + encodeURIComponent(text), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (body) {
            list.textContent = "";
            (body.suggestions || []).forEach(function (s) {
              var chip = document.createElement("button");
              chip.type = "button";
              chip.className = "suggest-chip";
              chip.textContent = s.name;
              var conf = document.createElement("span");
              conf.className = "conf";
              conf.textContent = Math.round(s.confidence * 100) + "%";
              chip.appendChild(conf);
              chip.addEventListener("click", function () {
                if (select) { select.value = s.code; select.dispatchEvent(new Event("change")); }
                each(".suggest-chip", function (c) { c.classList.remove("chosen"); });
                chip.classList.add("chosen");
              });
              list.appendChild(chip);
            });
            if (list.previousElementSibling && list.previousElementSibling.classList.contains("suggest-label")) {
              list.previousElementSibling.classList.toggle("hidden", !(body.suggestions || []).length);
            }
          })
          .catch(function () {});
      };
      area.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 450); });
      if (area.value) { run(); }
    });
  }

  function geoSort() {
    var el = document.querySelector("[data-geo-sort]");
    if (!el || !navigator.geolocation) { return; }
    var params = new URLSearchParams(window.location.search);
    if (params.has("lng") || sessionStorage.getItem("civicgrid-geo-asked")) { return; }
    sessionStorage.setItem("civicgrid-geo-asked", "1");
    navigator.geolocation.getCurrentPosition(function (pos) {
      params.set("lng", pos.coords.longitude.toFixed(6));
      params.set("lat", pos.coords.latitude.toFixed(6));
      window.location.replace(window.location.pathname + "?" + params.toString());
    }, function () {}, { timeout: 6000, maximumAge: 120000 });
  }

  function autoSubmit() {
    each("[data-autosubmit]", function (el) {
      el.addEventListener("change", function () { if (el.form) { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); } });
    });
  }

  function locateButtons() {
    each("[data-locate-me]", function (btn) {
      btn.classList.remove("hidden");
      btn.addEventListener("click", function () {
        var mapEl = document.getElementById(btn.getAttribute("data-locate-me"));
        if (!mapEl || !mapEl.civicMap) { return; }
        btn.disabled = true;
        mapEl.civicMap.locateDevice(function (lat, lng) { btn.disabled = false; mapEl.civicMap.choose(lat, lng); },
          function () { btn.disabled = false; window.alert(t("无法获取当前位置，请在地图上点选问题地点。", "Cannot get your position; tap the map instead.")); });
      });
    });
  }

  // The bell: how many notices are unread, kept fresh every 30 s and when the tab comes back (the page works
  // without it: the link leads to the inbox).
  function bell() {
    var count = document.querySelector("[data-bell-count]");
    if (!count || !window.fetch) { return; }
    var last = -1;
    var poll = function () {
      if (document.hidden) { return; }
      fetch("/web/api/notifications/unread", { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || data.unread === last) { return; }
          last = data.unread;
          count.textContent = data.unread > 99 ? "99+" : String(data.unread);
          count.hidden = !(data.unread > 0);
        }).catch(function () {});
    };
    poll();
    window.setInterval(poll, 30000);
    document.addEventListener("visibilitychange", poll);
  }

  // A region that scrolls (a wide table on a phone, a long ranking) can be reached and scrolled with the
  // keyboard (WCAG 2.1.1): it joins the tab order while it actually scrolls.
  function scrollRegions() {
    var mark = function () {
      var regions = document.querySelectorAll(".table-wrap, .rank-wrap, .scroll-wrap");
      for (var i = 0; i < regions.length; i++) {
        var el = regions[i];
        var scrolls = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
        if (scrolls && !el.hasAttribute("tabindex")) {
          el.setAttribute("tabindex", "0");
          el.setAttribute("data-scroll-focus", "");
        } else if (!scrolls && el.hasAttribute("data-scroll-focus")) {
          el.removeAttribute("tabindex");
          el.removeAttribute("data-scroll-focus");
        }
      }
    };
    mark();
    window.addEventListener("resize", mark);
    document.body.addEventListener("htmx:afterSettle", mark);
  }

  function init() {
    scrollRegions();
    bell();
    confirmForms();
    photoPreviews();
    suggestions();
    geoSort();
    autoSubmit();
    locateButtons();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
