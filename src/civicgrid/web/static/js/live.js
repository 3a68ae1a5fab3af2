/*
 * Live work (no inline scripts; wired from data-* attributes):
 *   #batch-form[data-batch]      the batch bar: [data-select-all], [data-batch-count], [data-batch-submit]
 *                                (a button's data-batch-confirm asks first); the list's checkboxes are
 *                                [data-batch-item] with form="batch-form"
 *   [data-live="15"]             refresh every [data-live-region][id] of the page every N seconds from the same
 *                                URL (so filters, tab and page stay), never while a box is checked, the user is
 *                                typing or working inside a region, or the tab is hidden; rows new since the page
 *                                loaded ([data-case-id]) are marked; [data-live-status] says what changed
 *   [data-sound-toggle]          a checkbox: beep (Web Audio, no file) when a new urgent case ([data-urgent])
 *                                arrives; off by default, remembered in localStorage
 */
(function () {
  "use strict";

  var EN = (document.querySelector('meta[name="civicgrid-lang"]') || {}).content === "en";
  function t(zh, en) { return EN ? en : zh; }
  function all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  // --- The batch bar ---------------------------------------------------------------------------------------

  function batchBar() {
    var form = document.getElementById("batch-form");
    if (!form) { return function () {}; }
    var selectAll = form.querySelector("[data-select-all]");
    var count = form.querySelector("[data-batch-count]");
    var update = function () {
      var items = all("[data-batch-item]");
      var n = items.filter(function (i) { return i.checked; }).length;
      count.textContent = n ? t("已选 " + n + " 件", n + " selected") : t("未选择案卷", "No case selected");
      all("[data-batch-submit]", form).forEach(function (b) { b.disabled = n === 0; });
      if (selectAll) {
        selectAll.checked = n > 0 && n === items.length;
        selectAll.indeterminate = n > 0 && n < items.length;
      }
    };
    if (selectAll) {
      selectAll.addEventListener("change", function () {
        all("[data-batch-item]").forEach(function (i) { i.checked = selectAll.checked; });
        update();
      });
    }
    document.addEventListener("change", function (e) {
      if (e.target && e.target.matches && e.target.matches("[data-batch-item]")) { update(); }
    });
    form.addEventListener("submit", function (e) {
      var button = e.submitter;
      var ask = button && button.getAttribute("data-batch-confirm");
      if (ask && !window.confirm(ask)) { e.preventDefault(); }
    });
    update();
    return update;
  }

  // --- The beep for new urgent cases ------------------------------------------------------------------------

  var SOUND_KEY = "civicgrid-urgent-sound";
  var audio = null;

  function soundOn() {
    try { return window.localStorage.getItem(SOUND_KEY) === "1"; } catch (e) { return false; }
  }

  function beep() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return; }
    try {
      audio = audio || new Ctx();
      if (audio.state === "suspended") { audio.resume(); }
      var start = audio.currentTime;
      [0, 0.22].forEach(function (offset) {  // two short tones, 880 Hz
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.type = "sine";
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.0001, start + offset);
        gain.gain.exponentialRampToValueAtTime(0.25, start + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.18);
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(start + offset);
        osc.stop(start + offset + 0.2);
      });
      document.documentElement.setAttribute("data-last-beep", String(Date.now()));
    } catch (e) { /* no sound device: the status line still says it */ }
  }

  function soundToggle() {
    all("[data-sound-toggle]").forEach(function (box) {
      box.checked = soundOn();
      box.addEventListener("change", function () {
        try { window.localStorage.setItem(SOUND_KEY, box.checked ? "1" : "0"); } catch (e) { /* private mode */ }
        if (box.checked) { beep(); }  // the click unlocks audio, and lets the user hear what to expect
      });
    });
  }

  // --- Self-refreshing lists --------------------------------------------------------------------------------

  function caseIds(selector) {
    var out = {};
    all("[data-live-region] " + selector).forEach(function (el) { out[el.getAttribute("data-case-id")] = true; });
    return out;
  }

  function busy() {
    if (document.hidden || document.querySelector("[data-batch-item]:checked")) { return true; }
    if (document.querySelector(".shortcut-help:not([hidden])")) { return true; }
    var a = document.activeElement;
    if (!a || a === document.body) { return false; }
    if (a.tagName === "INPUT" && !/^(checkbox|radio|button|submit|reset)$/.test(a.type)) { return true; }  // typing
    if (/^(TEXTAREA|SELECT)$/.test(a.tagName) || a.isContentEditable) { return true; }
    return Boolean(a.closest && a.closest("[data-live-region]"));  // working in the list with the keyboard
  }

  function live(afterRefresh) {
    var host = document.querySelector("[data-live]");
    if (!host || !window.fetch || !window.DOMParser) { return; }
    var every = Math.max(5, parseInt(host.getAttribute("data-live"), 10) || 15) * 1000;
    var status = host.querySelector("[data-live-status]");
    var known = caseIds("[data-case-id]");
    var urgentKnown = caseIds("[data-case-id][data-urgent]");
    var fresh = 0;
    var say = function (text) { if (status) { status.textContent = text; } };
    say(t("每 " + every / 1000 + " 秒自动刷新", "Refreshes every " + every / 1000 + " s"));

    var refresh = function () {
      if (busy()) { return; }
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html || busy()) { return; }
          var doc = new window.DOMParser().parseFromString(html, "text/html");
          all("[data-live-region][id]").forEach(function (el) {
            var next = doc.getElementById(el.id);
            if (next && next.innerHTML !== el.innerHTML) { el.innerHTML = next.innerHTML; }
          });
          var added = 0, urgent = 0;
          all("[data-live-region] [data-case-id]").forEach(function (el) {
            var id = el.getAttribute("data-case-id");
            if (!known[id]) { added += 1; known[id] = true; el.classList.add("row-new"); }
            if (el.hasAttribute("data-urgent") && !urgentKnown[id]) { urgent += 1; urgentKnown[id] = true; }
          });
          fresh += added;
          var time = new Date().toTimeString().slice(0, 5);
          if (urgent) {
            say(t("新到紧急案卷 " + urgent + " 件（" + time + "）", urgent + " new urgent case(s) (" + time + ")"));
            if (soundOn()) { beep(); }
          } else if (fresh) {
            say(t("新到 " + fresh + " 件，已更新于 " + time, fresh + " new, updated " + time));
          } else {
            say(t("已更新于 " + time, "Updated " + time));
          }
          afterRefresh();
          document.dispatchEvent(new CustomEvent("civicgrid:refreshed"));
        })
        .catch(function () { say(t("自动刷新失败，稍后重试", "Refresh failed, retrying")); });
    };
    window.setInterval(refresh, every);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
  }

  function init() {
    var update = batchBar();
    soundToggle();
    live(update);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
