// FileFlow: the details panel — size, type, dates, path, checksum, tags and versions
// (download, restore, delete) of the selected item. Toggled with the (i) button or "i".
(function () {
  "use strict";
  var FF = window.FF;
  var L = FF.listing;
  var panel = document.getElementById("details");
  if (!panel || !L) { return; }
  var toggleButton = document.getElementById("details-toggle");
  var title = document.getElementById("details-title");
  var empty = document.getElementById("details-empty");
  var content = document.getElementById("details-content");
  var facts = document.getElementById("details-facts");
  var preview = document.getElementById("details-preview");
  var tagsBox = document.getElementById("details-tags");
  var versionsSection = document.getElementById("details-versions-section");
  var versionsList = document.getElementById("details-versions");
  var versionsError = document.getElementById("details-versions-error");
  var KEY = "fileflow-details";
  var generation = 0;
  var current = null;

  var D = (FF.details = {});
  D.isOpen = function () { return !panel.hidden; };
  D.show = function () {
    panel.hidden = false;
    toggleButton.setAttribute("aria-pressed", "true");
    toggleButton.setAttribute("aria-label", "Hide details");
    try { localStorage.setItem(KEY, "1"); } catch (e) { /* not remembered */ }
    D.refresh();
  };
  D.hide = function () {
    panel.hidden = true;
    toggleButton.setAttribute("aria-pressed", "false");
    toggleButton.setAttribute("aria-label", "Show details");
    try { localStorage.removeItem(KEY); } catch (e) { /* not remembered */ }
  };
  D.toggle = function () { if (D.isOpen()) { D.hide(); } else { D.show(); } };

  function fact(term, value, className) {
    facts.appendChild(FF.el("dt", { text: term }));
    facts.appendChild(FF.el("dd", { text: value, className: className || null }));
  }
  function clear(element) { while (element.firstChild) { element.removeChild(element.firstChild); } }

  function showNothing(message) {
    current = null;
    title.textContent = "Details";
    empty.textContent = message;
    empty.hidden = false;
    content.hidden = true;
  }
  function showMany(rows) {
    var nodes = rows.map(L.nodeOf);
    var bytes = nodes.reduce(function (sum, node) { return sum + (node.is_folder ? 0 : node.size); }, 0);
    var folders = nodes.filter(function (node) { return node.is_folder; }).length;
    showNothing(FF.plural(nodes.length, "item") + " selected" +
      (folders ? " (" + FF.plural(folders, "folder") + ")" : "") + " · files total " + FF.formatSize(bytes) + ".");
  }

  function render(node, versions) {
    current = node;
    title.textContent = node.name || "Your files";
    empty.hidden = true;
    content.hidden = false;
    clear(preview);
    var kind = FF.kindOf(node);
    var thumb = FF.el("span", { className: "thumb large kind-" + kind.kind, "aria-hidden": "true" }, [FF.icon(kind.kind)]);
    if (FF.hasThumbnail(node)) {
      var image = FF.el("img", { src: FF.apiNode(node.id, "thumbnail/?size=512"), alt: "" });
      image.addEventListener("error", function () { image.remove(); });
      thumb.appendChild(image);
    }
    preview.appendChild(thumb);
    clear(facts);
    fact("Type", node.is_folder ? "Folder" : (node.mime_type || "unknown"));
    if (!node.is_folder) { fact("Size", FF.formatSize(node.size) + (node.size < 1024 ? "" : " (" + Number(node.size).toLocaleString() + " bytes)")); }
    fact("Location", node.path || "/", "mono");
    fact("Created", FF.formatDate(node.created_at));
    fact("Modified", FF.formatDate(node.updated_at));
    if (node.sha256) { fact("SHA-256", node.sha256, "mono checksum"); }
    fact("Favourite", node.is_favorite ? "Yes" : "No");
    clear(tagsBox);
    (node.tags || []).forEach(function (tag) { tagsBox.appendChild(FF.el("span", { className: "chip", text: tag })); });
    if (!(node.tags || []).length) { tagsBox.appendChild(FF.el("span", { className: "muted", text: "No tags." })); }
    document.getElementById("details-edit-tags").hidden = !L.rowById(node.id);
    versionsSection.hidden = node.is_folder;
    versionsError.hidden = true;
    clear(versionsList);
    if (!node.is_folder) { renderVersions(node, versions || []); }
  }

  function renderVersions(node, versions) {
    if (!versions.length) {
      versionsList.appendChild(FF.el("li", { className: "muted", text: "No earlier versions. Uploading a file with the same name and choosing “Replace” keeps the old one here." }));
      return;
    }
    versions.forEach(function (version) {
      var when = FF.formatDate(version.created_at);
      var item = FF.el("li", { className: "version" }, [
        FF.el("div", { className: "version-head" }, [
          FF.el("strong", { text: when }),
          FF.el("span", { className: "version-meta", text: FF.formatSize(version.size) })
        ]),
        FF.el("div", { className: "version-meta", text: version.author ? "by " + version.author : "" })
      ]);
      var actions = FF.el("div", { className: "version-actions" }, [
        FF.el("a", { className: "button small", href: FF.apiNode(node.id, "versions/" + version.id + "/content/"), download: "", "aria-label": "Download the version from " + when }, [FF.icon("download"), FF.el("span", { text: "Download" })]),
        FF.el("button", { type: "button", className: "button small", "aria-label": "Restore the version from " + when, onclick: function () { restore(node, version, when); } }, [FF.icon("restore"), FF.el("span", { text: "Restore" })]),
        FF.el("button", { type: "button", className: "button small danger", "aria-label": "Delete the version from " + when, onclick: function () { remove(node, version, when); } }, [FF.icon("trash"), FF.el("span", { text: "Delete" })])
      ]);
      item.appendChild(actions);
      versionsList.appendChild(item);
    });
  }
  function versionProblem(error) {
    versionsError.textContent = error.message;
    versionsError.hidden = false;
  }
  function restore(node, version, when) {
    FF.api("POST", FF.apiNode(node.id, "versions/" + version.id + "/restore/")).then(function (updated) {
      L.updateNode(updated);
      FF.toast("Restored the version from " + when + ". The content it replaced is kept as a version.");
      D.refresh();
    }, versionProblem);
  }
  function remove(node, version, when) {
    FF.confirm("Delete the version from " + when + " for good? This frees " + FF.formatSize(version.size) + ".", "Delete version").then(function (ok) {
      if (!ok) { return; }
      FF.api("DELETE", FF.apiNode(node.id, "versions/" + version.id + "/")).then(function () {
        FF.toast("Version deleted.");
        D.refresh();
      }, versionProblem);
    });
  }

  // Other scripts add to the panel (sharing shows the item's active links).
  var refreshListeners = [];
  D.onRefresh = function (listener) { refreshListeners.push(listener); };
  D.refresh = function () {
    if (!D.isOpen()) { return; }
    refreshListeners.forEach(function (listener) { listener(); });
    var rows = L.selectedRows();
    var mine = ++generation;
    if (rows.length > 1) { showMany(rows); return; }
    var id = rows.length === 1 ? rows[0].dataset.id : (L.folder ? L.folder.id : null);
    if (id === null) { showNothing("Select a file or folder to see its details."); return; }
    var node = null;
    FF.api("GET", FF.apiNode(id)).then(function (found) {
      node = found;
      return node.is_folder ? [] : FF.api("GET", FF.apiNode(id, "versions/"));
    }).then(function (versions) {
      if (mine === generation) { render(node, versions); }
    }, function (error) {
      if (mine === generation) { showNothing(error.message); }
    });
  };

  toggleButton.hidden = false;
  toggleButton.addEventListener("click", D.toggle);
  document.getElementById("details-close").addEventListener("click", function () {
    D.hide();
    toggleButton.focus();
  });
  document.getElementById("details-edit-tags").addEventListener("click", function () {
    if (!current) { return; }
    var row = L.rowById(current.id);
    if (row) { FF.actions.tags([row]); }
  });
  var pending = null;
  L.onChange(function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(D.refresh, 120);
  });
  var remembered = false;
  try { remembered = localStorage.getItem(KEY) === "1"; } catch (e) { remembered = false; }
  if (remembered && window.matchMedia("(min-width: 1101px)").matches) { D.show(); }
})();
