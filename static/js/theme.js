// Colour theme: follows the system unless the person picked one; the choice is remembered.
(function () {
  "use strict";
  var KEY = "fileflow-theme";
  var ORDER = ["system", "light", "dark"];
  var root = document.documentElement;

  function stored() {
    try { return localStorage.getItem(KEY) || "system"; } catch (e) { return "system"; }
  }
  function apply(theme) {
    root.setAttribute("data-theme", theme);
    var label = document.getElementById("theme-label");
    if (label) { label.textContent = theme.charAt(0).toUpperCase() + theme.slice(1); }
  }
  apply(stored());
  document.addEventListener("DOMContentLoaded", function () {
    apply(stored());
    var button = document.getElementById("theme-toggle");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var next = ORDER[(ORDER.indexOf(stored()) + 1) % ORDER.length];
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: not remembered */ }
      apply(next);
    });
  });
})();
