/*
 * Admin pages: select the one-time secret (new API key, temporary password) with one click so it is easy to copy.
 * Confirmation of dangerous forms is handled by app.js ([data-confirm]).
 */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-secret]"), function (el) {
    el.addEventListener("click", function () {
      var range = document.createRange();
      range.selectNodeContents(el);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    });
  });
})();
