// FileFlow: how every page writes sizes, moments and counts — the script half of
// fileflow/formats.py. Loaded by every page (the drive, the account, public share pages).
(function () {
  "use strict";
  var FF = (window.FF = window.FF || {});

  // --- sizes: the same text as Django's filesizeformat (base 1024, KB/MB labels) ---------
  var UNITS = ["KB", "MB", "GB", "TB", "PB"];
  // Python's round(x, 1): ties go to the even digit (1.25 → 1.2); bytes × 10 divided by a
  // power of two is exact, so the tie test is exact too.
  function oneDecimal(bytes, divisor) {
    var tenths = (bytes * 10) / divisor;
    var floor = Math.floor(tenths);
    var rest = tenths - floor;
    var rounded = rest > 0.5 ? floor + 1 : rest < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
    return (rounded / 10).toFixed(1);
  }
  FF.formatSize = function (bytes) {
    bytes = Math.trunc(Number(bytes) || 0);
    var sign = bytes < 0 ? "-" : "";
    bytes = Math.abs(bytes);
    var nbsp = "\u00a0";
    if (bytes < 1024) { return sign + bytes + nbsp + (bytes === 1 ? "byte" : "bytes"); }
    var unit = 0;
    var divisor = 1024;
    while (unit < UNITS.length - 1 && bytes >= divisor * 1024) { divisor *= 1024; unit++; }
    return sign + oneDecimal(bytes, divisor) + nbsp + UNITS[unit];
  };

  // --- counts -------------------------------------------------------------------------------
  // "1 item", "2 items"; FF.plural(n, "entry", "entries") where "s" is not the plural.
  FF.plural = function (n, one, many) { return n + " " + (n === 1 ? one : many || one + "s"); };

  // --- moments: one format, in the browser's locale and time zone -------------------------
  var MOMENT = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  var DAY = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
  FF.formatDate = function (iso, style) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) { return ""; }
    return (style === "date" ? DAY : MOMENT).format(date);
  };
  FF.localizeTimes = function (root) {
    (root || document).querySelectorAll("time[datetime]").forEach(function (time) {
      var iso = time.getAttribute("datetime");
      var text = FF.formatDate(iso, time.getAttribute("data-style"));
      if (text) {
        time.textContent = text;
        time.setAttribute("title", FF.formatDate(iso));
      }
    });
  };
  // A message names a moment as 2026-12-04T20:24Z (fileflow/formats.py); show it local.
  FF.localizeText = function (text) {
    return String(text).replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\dZ/g, function (stamp) {
      return FF.formatDate(stamp) || stamp;
    });
  };

  document.addEventListener("DOMContentLoaded", function () { FF.localizeTimes(document); });
})();
