/* Count-down timers of the case lists: every [data-due] (an ISO time) inside a [data-timefmt] element shows
 * the time left ("剩余 …") or how late it is ("超时 …"), in the words the page rendered on that element
 * (data-left, data-late, data-min, data-hour, data-day: translated), and refreshes itself every 20 s.
 * An element with data-turns-red turns red once its time has passed. Lists replaced by live.js are counted
 * again as soon as it says so ("civicgrid:refreshed"). */
(function () {
  "use strict";

  function fill(fmt, values) {
    return fmt.replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function words(box, minutes) {
    var m = Math.abs(minutes);
    var span;
    if (m < 60) {
      span = fill(box.getAttribute("data-min"), { m: m });
    } else if (m < 24 * 60) {
      span = fill(box.getAttribute("data-hour"), { h: Math.floor(m / 60), m: m % 60 });
    } else {
      span = fill(box.getAttribute("data-day"), { d: Math.floor(m / 1440), h: Math.floor((m % 1440) / 60) });
    }
    return fill(box.getAttribute(minutes >= 0 ? "data-left" : "data-late"), { t: span });
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-timefmt] [data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var minutes = Math.floor((due - now) / 60000);
      var text = words(el.closest("[data-timefmt]"), minutes);
      if (el.textContent !== text) { el.textContent = text; }
      if (minutes < 0 && el.hasAttribute("data-turns-red") && !el.classList.contains("light-red")) {
        el.classList.remove("light-none", "light-green", "light-yellow");
        el.classList.add("light-red");
      }
    });
  }

  tick();
  window.setInterval(tick, 20000);
  document.addEventListener("civicgrid:refreshed", tick);  // a list live.js just replaced counts on at once
})();
