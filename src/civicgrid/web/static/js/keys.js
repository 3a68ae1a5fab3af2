/*
 * Keyboard shortcuts for operators, on pages marked [data-shortcuts="queue"] (a list of [data-case-id] rows)
 * or [data-shortcuts="case"] (the case page). Never while typing in a field, never with Ctrl/Alt/⌘.
 *   /        focus the search box (#q, or the list's q field)
 *   ?        show / hide the list of shortcuts ([data-shortcut-help] buttons open it too)
 *   j n ↓    next case        k p ↑   previous case
 *   Enter o  open the chosen case (list)          x   tick / untick it for a batch action (list)
 *   v        派核实 (case page: opens the form and focuses its button; Enter sends)
 *   r        立案   (the same)
 * The list remembers its order (sessionStorage), so j/k on a case page walk the list it was opened from.
 */
(function () {
  "use strict";

  var EN = (document.querySelector('meta[name="civicgrid-lang"]') || {}).content === "en";
  function t(zh, en) { return EN ? en : zh; }
  var host = document.querySelector("[data-shortcuts]");
  if (!host) { return; }
  var mode = host.getAttribute("data-shortcuts");
  var LIST_KEY = "civicgrid-queue";
  var chosen = null;  // the case id chosen with j/k on a list

  var HELP = [
    ["/", "搜索案卷号、地址或内容", "Search"],
    ["j / n", "下一件案卷", "Next case"],
    ["k / p", "上一件案卷", "Previous case"],
    ["Enter / o", "打开选中的案卷（列表）", "Open the chosen case (list)"],
    ["x", "勾选 / 取消勾选（批量操作）", "Tick for a batch action"],
    ["v", "派核实（案卷页：打开表单，回车提交）", "Send to verify (case page; Enter sends)"],
    ["r", "立案（案卷页：打开表单，回车提交）", "Register (case page; Enter sends)"],
    ["?", "显示 / 关闭本帮助", "Show / hide this help"],
    ["Esc", "关闭帮助", "Close the help"]
  ];

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    if (target.tagName === "INPUT") { return !/^(checkbox|radio|button|submit|reset)$/.test(target.type); }
    return /^(TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-live-region] [data-case-id], #case-table tr[data-case-id]"))
      .filter(function (el, i, arr) { return arr.indexOf(el) === i; });
  }

  function remember() {
    var ids = rows().map(function (r) { return r.getAttribute("data-case-id"); });
    try {
      window.sessionStorage.setItem(LIST_KEY, JSON.stringify({ ids: ids, back: window.location.pathname + window.location.search }));
    } catch (e) { /* storage off: j/k still work on the list */ }
  }

  // --- The help overlay ------------------------------------------------------------------------------------

  var overlay = null, opener = null;

  function buildHelp() {
    overlay = document.createElement("div");
    overlay.className = "shortcut-help";
    overlay.hidden = true;
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-labelledby", "shortcut-help-title");
    var box = document.createElement("div");
    box.className = "shortcut-box";
    var h = document.createElement("h2");
    h.id = "shortcut-help-title";
    h.textContent = t("键盘快捷键", "Keyboard shortcuts");
    box.appendChild(h);
    var dl = document.createElement("dl");
    HELP.forEach(function (row) {
      var dt = document.createElement("dt");
      row[0].split(" / ").forEach(function (k, i) {
        if (i) { dt.appendChild(document.createTextNode(" / ")); }
        var kbd = document.createElement("kbd");
        kbd.textContent = k;
        dt.appendChild(kbd);
      });
      var dd = document.createElement("dd");
      dd.textContent = t(row[1], row[2]);
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    box.appendChild(dl);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-small";
    close.textContent = t("关闭", "Close");
    close.addEventListener("click", hideHelp);
    box.appendChild(close);
    overlay.appendChild(box);
    overlay.addEventListener("click", function (e) { if (e.target === overlay) { hideHelp(); } });
    document.body.appendChild(overlay);
  }

  function showHelp() {
    if (!overlay) { buildHelp(); }
    opener = document.activeElement;
    overlay.hidden = false;
    overlay.querySelector("button").focus();
  }

  function hideHelp() {
    if (!overlay || overlay.hidden) { return; }
    overlay.hidden = true;
    if (opener && opener.focus) { opener.focus(); }
  }

  // --- Moving through cases --------------------------------------------------------------------------------

  function mark(id) {
    rows().forEach(function (r) {
      var on = r.getAttribute("data-case-id") === id;
      r.classList.toggle("row-chosen", on);
      if (on) { r.scrollIntoView({ block: "nearest" }); }
    });
  }

  function step(delta) {
    var list = rows();
    if (!list.length) { return; }
    var ids = list.map(function (r) { return r.getAttribute("data-case-id"); });
    var at = ids.indexOf(chosen);
    var next = at < 0 ? (delta > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + delta));
    chosen = ids[next];
    mark(chosen);
  }

  function chosenRow() {
    return rows().filter(function (r) { return r.getAttribute("data-case-id") === chosen; })[0] || null;
  }

  function openChosen() {
    var row = chosenRow();
    var link = row && (row.matches("a[href]") ? row : row.querySelector("a[href^='/cases/']"));
    if (link) { window.location.assign(link.getAttribute("href")); }
  }

  function tickChosen() {
    var box = chosenRow() && chosenRow().querySelector("[data-batch-item]");
    if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
  }

  function stepCase(delta) {
    var saved = null;
    try { saved = JSON.parse(window.sessionStorage.getItem(LIST_KEY) || "null"); } catch (e) { saved = null; }
    var here = host.getAttribute("data-case-id");
    if (!saved || !saved.ids) { return; }
    var at = saved.ids.indexOf(here);
    var next = saved.ids[at + delta];
    if (at < 0 || !next) {
      window.alert(delta > 0 ? t("已是列表中的最后一件", "This is the last case of the list")
        : t("已是列表中的第一件", "This is the first case of the list"));
      return;
    }
    window.location.assign("/cases/" + encodeURIComponent(next) + "?back=" + encodeURIComponent(saved.back || "/center"));
  }

  function openAction(name) {
    var form = document.getElementById("action-" + name);
    if (!form) { return false; }
    var details = form.closest("details");
    if (details) { details.open = true; }
    var button = form.querySelector("button[type=submit], button:not([type])");
    (button || form).focus();
    form.scrollIntoView({ block: "center" });
    return true;
  }

  function focusSearch() {
    var q = document.getElementById("q") || document.querySelector("input[name=q]");
    if (!q) { return false; }
    q.focus();
    if (q.select) { q.select(); }
    return true;
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) { return; }
    if (e.key === "Escape") { hideHelp(); return; }
    if (typing(e.target)) { return; }
    if (overlay && !overlay.hidden) {
      if (e.key === "?") { hideHelp(); e.preventDefault(); }
      return;
    }
    var done = true;
    switch (e.key) {
      case "?": showHelp(); break;
      case "/": done = focusSearch(); break;
      case "j": case "n": case "ArrowDown":
        if (mode === "case") { stepCase(1); } else if (e.key !== "ArrowDown" || chosen) { step(1); } else { done = false; }
        break;
      case "k": case "p": case "ArrowUp":
        if (mode === "case") { stepCase(-1); } else if (e.key !== "ArrowUp" || chosen) { step(-1); } else { done = false; }
        break;
      case "Enter": case "o":
        if (mode === "queue" && chosen && (e.key === "o" || e.target === document.body)) { openChosen(); } else { done = false; }
        break;
      case "x": if (mode === "queue" && chosen) { tickChosen(); } else { done = false; } break;
      case "v": done = mode === "case" && openAction("send_verify"); break;
      case "r": done = mode === "case" && openAction("register"); break;
      default: done = false;
    }
    if (done) { e.preventDefault(); }
  });

  Array.prototype.forEach.call(document.querySelectorAll("[data-shortcut-help]"), function (b) {
    b.addEventListener("click", showHelp);
  });
  if (mode === "queue") {
    remember();
    document.addEventListener("civicgrid:refreshed", function () { remember(); if (chosen) { mark(chosen); } });
  }
})();
