// FileFlow: what every drive page's scripts share — config, API calls, formatting, toasts,
// dialogs. No data is ever put into the page as HTML: text goes in with textContent and
// attributes with setAttribute.
(function () {
  "use strict";
  var FF = (window.FF = window.FF || {});

  var configElement = document.getElementById("ff-config");
  FF.config = (configElement && JSON.parse(configElement.textContent)) || {};
  FF.config.urls = FF.config.urls || {};

  FF.csrfToken = function () {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  };

  // --- URLs ----------------------------------------------------------------------------
  // Page URLs come from the server with a 0 where the id goes.
  FF.url = function (name, id) {
    var pattern = FF.config.urls[name] || "";
    return id === undefined ? pattern : pattern.replace("/0/", "/" + encodeURIComponent(id) + "/");
  };
  FF.apiNode = function (id, suffix) {
    return FF.config.urls.nodes + encodeURIComponent(id) + "/" + (suffix || "");
  };
  FF.query = function (params) {
    var search = new URLSearchParams();
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      if (value !== null && value !== undefined && value !== "") { search.set(key, value); }
    });
    var text = search.toString();
    return text ? "?" + text : "";
  };

  // --- the API -------------------------------------------------------------------------
  function ApiError(status, detail, code, field) {
    this.name = "ApiError";
    this.status = status;
    this.message = detail;
    this.code = code || "";
    this.field = field || "";
  }
  ApiError.prototype = Object.create(Error.prototype);
  FF.ApiError = ApiError;

  // A sentence a person can act on, from whatever the server (or the network) said.
  FF.errorText = function (body, status) {
    if (status === 0) { return "The server could not be reached. Check your connection and try again."; }
    var detail = body && typeof body.detail === "string" ? body.detail : "";
    // DRF's wording for an expired session or a stale form is not something to act on.
    if (status === 401 || (status === 403 && /credentials|CSRF/i.test(detail))) {
      return "You have been logged out, or this page is out of date. Reload the page (and log in again if asked).";
    }
    if (detail) { return FF.localizeText(detail); }
    if (body && typeof body === "object") {
      var keys = Object.keys(body);
      if (keys.length) {
        var value = body[keys[0]];
        var text = Array.isArray(value) ? value[0] : value;
        if (typeof text === "string") { return keys[0] === "non_field_errors" ? text : keys[0] + ": " + text; }
      }
    }
    if (status === 403) { return "You are no longer logged in, or this is not allowed. Reload the page and log in again."; }
    if (status === 404) { return "This item no longer exists. Reload the page to see the current contents."; }
    if (status === 413) { return "This is too large for the server or for your storage quota."; }
    return "Something went wrong on the server (error " + status + "). Try again in a moment.";
  };

  FF.api = function (method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET" && method !== "HEAD") { options.headers["X-CSRFToken"] = FF.csrfToken(); }
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(
      function (response) {
        if (response.status === 204) {
          if (method !== "GET" && method !== "HEAD") { usageChanged(); }
          return null;
        }
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (!response.ok) {
            throw new ApiError(response.status, FF.errorText(data, response.status),
              data && data.code, data && data.field);
          }
          if (method !== "GET" && method !== "HEAD") { usageChanged(); }
          return data;
        });
      },
      function () { throw new ApiError(0, FF.errorText(null, 0)); }
    );
  };

  // --- building elements -------------------------------------------------------------
  FF.el = function (tag, attributes, children) {
    var element = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      var value = attributes[key];
      if (value === null || value === undefined || value === false) { return; }
      if (key === "text") { element.textContent = value; }
      else if (key === "className") { element.className = value; }
      else if (key.slice(0, 2) === "on" && typeof value === "function") { element.addEventListener(key.slice(2), value); }
      else { element.setAttribute(key, value === true ? "" : String(value)); }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      element.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return element;
  };
  var SVG = "http://www.w3.org/2000/svg";
  FF.icon = function (name, className) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "icon" + (className ? " " + className : ""));
    svg.setAttribute("aria-hidden", "true");
    var use = document.createElementNS(SVG, "use");
    use.setAttribute("href", "#i-" + name);
    svg.appendChild(use);
    return svg;
  };
  FF.setIcon = function (svg, name) {
    var use = svg && svg.querySelector("use");
    if (use) { use.setAttribute("href", "#i-" + name); }
  };

  // --- formatting (sizes, moments, plurals: static/js/format.js) ---------------------------
  FF.formatDuration = function (seconds) {
    if (!isFinite(seconds) || seconds < 0) { return ""; }
    seconds = Math.ceil(seconds);
    if (seconds < 60) { return seconds + " s"; }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + " min " + (seconds % 60) + " s"; }
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  };

  // --- kinds of files (rules from the server) --------------------------------------------
  function matches(mime, patterns) {
    return patterns.some(function (pattern) {
      if (/[\/.]$/.test(pattern)) { return mime.indexOf(pattern) === 0; }
      if (pattern.charAt(0) === "+") { return mime.slice(-pattern.length) === pattern; }
      return mime === pattern;
    });
  }
  function bareMime(mime) { return String(mime || "").split(";")[0].trim().toLowerCase(); }
  FF.kindOf = function (node) {
    if (node.is_folder) { return { kind: "folder", label: "Folder" }; }
    var mime = bareMime(node.mime_type);
    var rules = FF.config.kinds || [];
    for (var i = 0; i < rules.length; i++) {
      if (matches(mime, rules[i][2])) { return { kind: rules[i][0], label: rules[i][1] }; }
    }
    return { kind: "file", label: "File" };
  };
  FF.previewOf = function (node) {
    if (node.is_folder) { return ""; }
    var mime = bareMime(node.mime_type);
    var rules = FF.config.previews || [];
    for (var i = 0; i < rules.length; i++) {
      if (matches(mime, rules[i][1])) { return rules[i][0]; }
    }
    return "";
  };
  FF.hasThumbnail = function (node) {
    return !node.is_folder && (FF.config.thumbnailTypes || []).indexOf(node.mime_type) !== -1;
  };

  // --- toasts ------------------------------------------------------------------------------
  var MAX_TOASTS = 2;
  FF.toast = function (message, options) {
    options = options || {};
    var region = document.getElementById("toasts");
    if (!region) { return null; }
    var toast = FF.el("div", { className: "toast" + (options.error ? " error" : ""), role: options.error ? "alert" : null });
    toast.appendChild(FF.el("span", { text: message }));
    var timer = null;
    function close() {
      window.clearTimeout(timer);
      if (toast.parentNode) { toast.parentNode.removeChild(toast); }
    }
    if (options.actionLabel) {
      toast.appendChild(FF.el("button", {
        type: "button", className: "toast-action", text: options.actionLabel,
        onclick: function () { close(); options.onAction(); }
      }));
    }
    var closer = FF.el("button", { type: "button", className: "icon-button toast-close", "aria-label": "Dismiss", onclick: close }, [FF.icon("close")]);
    toast.appendChild(closer);
    region.appendChild(toast);
    // One area, at most two notes: a new one replaces the oldest rather than stacking.
    while (region.children.length > MAX_TOASTS) { region.removeChild(region.firstElementChild); }
    timer = window.setTimeout(close, options.duration || (options.error ? 12000 : 8000));
    return { close: close, element: toast };
  };

  // --- dialogs --------------------------------------------------------------------------
  // Resolves with the value of the button that closed the dialog ("" for Esc).
  FF.showDialog = function (dialog) {
    return new Promise(function (resolve) {
      dialog.returnValue = "";
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue);
      });
      dialog.showModal();
    });
  };
  FF.confirm = function (text, okLabel) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog) { return Promise.resolve(window.confirm(text)); }
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-ok").textContent = okLabel || "Delete";
    return FF.showDialog(dialog).then(function (value) { return value === "ok"; });
  };

  // --- the storage bar in the sidebar ---------------------------------------------------
  // Any change made through the API (copy, upload, delete for good, versions…) may change
  // the figure: one look-up shortly after the last of a burst of changes.
  var usageTimer = null;
  function usageChanged() {
    window.clearTimeout(usageTimer);
    usageTimer = window.setTimeout(function () { FF.refreshUsage(); }, 300);
  }
  FF.usageChanged = usageChanged;
  FF.refreshUsage = function () {
    var box = document.getElementById("side-usage");
    if (!box || !FF.config.urls.me) { return; }
    FF.api("GET", FF.config.urls.me).then(function (me) {
      var meter = box.querySelector("meter");
      var text = box.querySelector(".usage-text");
      if (meter && me.quota_bytes !== null) {
        meter.value = me.used_bytes;
        meter.textContent = Math.round(100 * me.used_bytes / me.quota_bytes) + " %";
      }
      if (text) {
        text.textContent = FF.formatSize(me.used_bytes) + (me.quota_bytes === null ? " used" : " of " + FF.formatSize(me.quota_bytes) + " used");
      }
    }, function () { /* the bar just stays as it was */ });
  };

  // --- progressive enhancement shared by every page ----------------------------------------
  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.classList.add("js");
    document.querySelectorAll(".no-js-only").forEach(function (el) { el.hidden = true; });
    document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

    // Forms that destroy something ask first (<form data-confirm> or <button data-confirm>).
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var button = event.submitter;
      var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
      if (!question || form.dataset.confirmed === "1") { return; }
      event.preventDefault();
      FF.confirm(question, button && button.textContent.trim().indexOf("Delete") === 0 ? button.textContent.trim() : "Delete").then(function (ok) {
        if (!ok) { return; }
        form.dataset.confirmed = "1";
        if (button && button.name) {
          form.appendChild(FF.el("input", { type: "hidden", name: button.name, value: button.value }));
        }
        form.submit();
      });
    });

    // The trash page: a "check all" box.
    var checkAll = document.getElementById("trash-select-all");
    if (checkAll) {
      checkAll.hidden = false;
      var boxes = document.querySelectorAll("#trash-form input[name=ids]");
      checkAll.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = checkAll.checked; });
      });
    }
  });
})();
