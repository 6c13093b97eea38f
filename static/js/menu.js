// FileFlow: on a phone the top bar is one row (menu, name, search) and everything else —
// the main links, the drive's sidebar, theme and log-out — folds into the menu button.
// Loaded in <head> so the page is laid out folded from its first paint; without this script
// the phone layout simply shows everything.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("has-menu");
  function start() {
    var button = document.getElementById("menu-button");
    if (!button) { return; }
    button.hidden = false;
    function setOpen(open) {
      root.classList.toggle("menu-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    button.addEventListener("click", function () { setOpen(!root.classList.contains("menu-open")); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && root.classList.contains("menu-open") && !document.querySelector("dialog[open]")) {
        setOpen(false);
        button.focus();
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
