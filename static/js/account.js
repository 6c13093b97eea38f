// The account page: "Copy" puts a new API token on the clipboard (it is shown only once).
(function () {
  "use strict";
  var button = document.getElementById("copy-token");
  if (!button) { return; }
  var input = document.getElementById(button.dataset.copyFrom);
  var status = document.getElementById("copy-token-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    input.focus();
    input.select();
    var done = function (ok) {
      status.textContent = ok ? "Copied." : "Selected: press Ctrl+C (⌘C on a Mac) to copy it.";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(false); });
    } else {
      done(false);
    }
  });
})();
