// FileFlow: the viewer — images, PDFs, video and audio (the server answers Range requests,
// so seeking works) and text or code, with previous/next through the folder's files.
// Text is fetched and shown with textContent: HTML, SVG and scripts are shown as source,
// never rendered. Everything else is served with a sandboxing policy by the server.
(function () {
  "use strict";
  var FF = window.FF;
  var L = FF.listing;
  var viewer = document.getElementById("viewer");
  if (!viewer || !L) { return; }
  var content = document.getElementById("viewer-content");
  var titleElement = document.getElementById("viewer-title");
  var countElement = document.getElementById("viewer-count");
  var download = document.getElementById("viewer-download");
  var prev = document.getElementById("viewer-prev");
  var next = document.getElementById("viewer-next");
  var TEXT_LIMIT = 512 * 1024;
  var files = [];
  var index = 0;
  var controller = null;

  function clear() {
    if (controller) { controller.abort(); controller = null; }
    // Stop media before it leaves the page, so audio does not keep playing.
    content.querySelectorAll("video, audio").forEach(function (media) { media.pause(); media.removeAttribute("src"); media.load(); });
    while (content.firstChild) { content.removeChild(content.firstChild); }
  }
  function inlineUrl(node) { return FF.apiNode(node.id, "content/?inline=1"); }

  function card(node, message) {
    var kind = FF.kindOf(node);
    return FF.el("div", { className: "viewer-card" }, [
      FF.el("span", { className: "thumb large kind-" + kind.kind, "aria-hidden": "true" }, [FF.icon(kind.kind)]),
      FF.el("p", { text: message }),
      FF.el("a", { className: "button primary", href: FF.url("download", node.id) }, [FF.icon("download"), FF.el("span", { text: "Download (" + FF.formatSize(node.size) + ")" })])
    ]);
  }

  function showText(node) {
    var wrap = FF.el("div", { className: "viewer-text-wrap" });
    var pre = FF.el("pre", { className: "viewer-text", tabindex: "0", "aria-label": "Contents of " + node.name, text: "Loading…" });
    wrap.appendChild(pre);
    content.appendChild(wrap);
    controller = new AbortController();
    var headers = {};
    var partial = node.size > TEXT_LIMIT;
    if (partial) { headers.Range = "bytes=0-" + (TEXT_LIMIT - 1); }
    fetch(inlineUrl(node), { credentials: "same-origin", headers: headers, signal: controller.signal }).then(function (response) {
      if (!response.ok && response.status !== 206) { throw new Error(FF.errorText(null, response.status)); }
      return response.arrayBuffer();
    }).then(function (buffer) {
      pre.textContent = new TextDecoder("utf-8").decode(buffer);
      if (partial) {
        wrap.appendChild(FF.el("p", { className: "viewer-note", text: "Showing the first " + FF.formatSize(TEXT_LIMIT) + " of " + FF.formatSize(node.size) + ". Download the file to see all of it." }));
      }
    }, function (error) {
      if (error.name === "AbortError") { return; }
      pre.textContent = "This file could not be loaded: " + error.message;
    });
  }

  function show(position) {
    clear();
    index = position;
    var node = files[index];
    titleElement.textContent = node.name;
    countElement.textContent = files.length > 1 ? (index + 1) + " of " + files.length : "";
    download.setAttribute("href", FF.url("download", node.id));
    download.setAttribute("aria-label", "Download " + node.name);
    var hadFocus = document.activeElement === prev || document.activeElement === next;
    prev.disabled = index === 0;
    next.disabled = index === files.length - 1;
    // A button that just became disabled drops focus; keep it inside the viewer.
    if (hadFocus && document.activeElement !== prev && document.activeElement !== next) {
      (prev.disabled ? next : prev).focus();
    }
    var mode = node.preview;
    if (mode === "image") {
      var image = FF.el("img", { src: inlineUrl(node), alt: node.name });
      image.addEventListener("error", function () {
        clear();
        content.appendChild(card(node, "This picture cannot be shown in the browser."));
      });
      content.appendChild(image);
    } else if (mode === "pdf") {
      content.appendChild(FF.el("iframe", { src: inlineUrl(node), title: node.name }));
    } else if (mode === "video" || mode === "audio") {
      var media = FF.el(mode, { src: inlineUrl(node), controls: true, preload: "metadata", "aria-label": node.name });
      media.addEventListener("error", function () {
        clear();
        content.appendChild(card(node, "Your browser cannot play this " + mode + " format."));
      });
      content.appendChild(media);
    } else if (mode === "text") {
      showText(node);
    } else {
      content.appendChild(card(node, "There is no preview for this kind of file."));
    }
    // Keep the listing's selection in step, so closing the viewer leaves you on this file.
    var row = L.rowById(node.id);
    if (row) { L.selectOnly(row); }
  }

  var P = (FF.preview = {});
  P.open = function (row) {
    files = L.rows().map(L.nodeOf).filter(function (node) { return !node.is_folder; });
    var at = files.findIndex(function (node) { return String(node.id) === row.dataset.id; });
    if (at === -1) { return; }
    if (!viewer.open) { viewer.showModal(); }
    show(at);
    document.getElementById("viewer-close").focus();
  };
  // Files from elsewhere (the search box's suggestions): API nodes, not rows of this page.
  P.openNodes = function (nodes, at) {
    files = nodes.map(function (node) {
      return Object.assign({}, node, { is_folder: false, preview: FF.previewOf(node) });
    });
    if (!files.length) { return; }
    if (!viewer.open) { viewer.showModal(); }
    show(Math.max(0, at));
    document.getElementById("viewer-close").focus();
  };
  P.step = function (delta) {
    var target = index + delta;
    if (target >= 0 && target < files.length) { show(target); }
  };

  prev.addEventListener("click", function () { P.step(-1); });
  next.addEventListener("click", function () { P.step(1); });
  document.getElementById("viewer-close").addEventListener("click", function () { viewer.close(); });
  document.getElementById("viewer-details").addEventListener("click", function () {
    viewer.close();
    if (FF.details) { FF.details.show(); }
  });
  document.addEventListener("keydown", function (event) {
    if (!viewer.open || (event.target.closest && event.target.closest("video, audio"))) { return; }
    if (event.key === "ArrowLeft") { event.preventDefault(); P.step(-1); }
    else if (event.key === "ArrowRight") { event.preventDefault(); P.step(1); }
  });
  viewer.addEventListener("close", function () {
    clear();
    var row = files[index] && L.rowById(files[index].id);
    if (row) { L.focusRow(row); }
  });
})();
