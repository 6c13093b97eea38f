// FileFlow: the listing — rows, selection (click, Ctrl/Cmd-click, Shift-click, Ctrl/Cmd+A,
// Esc), keyboard focus, list/grid views and loading further pages as the person scrolls.
// Actions on the selection live in actions.js; this file only decides *what* is selected.
(function () {
  "use strict";
  var FF = window.FF;
  var listing = document.getElementById("listing");
  if (!listing) { return; }
  var body = document.getElementById("listing-body");
  var template = document.getElementById("row-template");
  var config = FF.config.listing || {};
  var selected = new Set();
  var anchorId = null;
  var listeners = [];
  var nextCursor = config.cursor || null;
  var loading = null;

  var L = (FF.listing = {
    element: listing,
    body: body,
    folder: FF.config.folder || null,
    filtered: !!config.filtered,
    onChange: function (listener) { listeners.push(listener); }
  });

  // --- rows and the nodes they show -----------------------------------------------------
  L.rows = function () { return Array.prototype.slice.call(body.querySelectorAll(".row")); };
  L.rowById = function (id) { return body.querySelector('.row[data-id="' + String(id).replace(/[^0-9]/g, "") + '"]'); };
  // What a row shows, as the API would describe it (plus what is derived from the type).
  L.nodeOf = function (row) {
    var d = row.dataset;
    var time = row.querySelector("time");
    var node = {
      id: Number(d.id), parent: d.parent ? Number(d.parent) : null, name: d.name,
      is_folder: d.folder === "1", mime_type: d.mime, size: Number(d.size),
      is_favorite: d.favorite === "1", tags: d.tags ? d.tags.split(",") : [],
      updated_at: time ? time.getAttribute("datetime") : ""
    };
    node.kind = FF.kindOf(node).kind;
    node.preview = FF.previewOf(node);
    // The row's own link decides where it opens (a trashed folder in search results
    // opens its details page, having no folder page to show).
    var link = row.querySelector(".name-link");
    node.url = link && link.getAttribute("href") ? link.getAttribute("href")
      : node.is_folder ? FF.url("folder", node.id) : FF.url("node", node.id);
    node.has_thumbnail = FF.hasThumbnail(node);
    return node;
  };

  // Fill a row (from the server-rendered template) with a node from the API.
  L.fillRow = function (row, node) {
    var kind = FF.kindOf(node);
    var url = node.is_folder ? FF.url("folder", node.id) : FF.url("node", node.id);
    var tags = (node.tags || []).slice().sort();
    row.dataset.id = node.id;
    row.dataset.parent = node.parent === null || node.parent === undefined ? "" : node.parent;
    row.dataset.name = node.name;
    row.dataset.folder = node.is_folder ? "1" : "";
    row.dataset.mime = node.mime_type || "";
    row.dataset.size = node.size || 0;
    row.dataset.favorite = node.is_favorite ? "1" : "";
    row.dataset.tags = tags.join(",");
    var box = row.querySelector(".check input");
    box.value = node.id;
    box.setAttribute("aria-label", "Select " + node.name);
    var thumb = row.querySelector(".thumb");
    thumb.className = "thumb kind-" + kind.kind;
    FF.setIcon(thumb.querySelector("svg"), kind.kind);
    var oldImage = thumb.querySelector("img");
    if (oldImage) { thumb.removeChild(oldImage); }
    var link = row.querySelector(".name-link");
    link.textContent = node.name;
    link.setAttribute("href", url);
    link.setAttribute("title", node.name);
    var badges = row.querySelector(".badges");
    while (badges.firstChild) { badges.removeChild(badges.firstChild); }
    if (node.is_favorite) {
      var star = FF.icon("star", "star");
      star.setAttribute("role", "img");
      star.removeAttribute("aria-hidden");
      star.setAttribute("aria-label", "Favourite");
      badges.appendChild(star);
    }
    tags.forEach(function (tag) { badges.appendChild(FF.el("span", { className: "chip", text: tag })); });
    row.querySelector(".cell.size").textContent = node.is_folder ? "—" : FF.formatSize(node.size);
    row.querySelector(".row-meta-size").textContent = node.is_folder ? "" : FF.formatSize(node.size) + " · ";
    row.querySelectorAll("time").forEach(function (time) {
      time.setAttribute("datetime", node.updated_at);
      time.textContent = FF.formatDate(node.updated_at);
      time.setAttribute("title", FF.formatDate(node.updated_at));
    });
    row.querySelector(".cell.type").textContent = kind.label;
    var download = row.querySelector(".download-link");
    download.setAttribute("href", FF.url("download", node.id));
    download.setAttribute("aria-label", "Download " + node.name);
    row.querySelector(".row-menu").setAttribute("aria-label", "More actions for " + node.name);
    prepareRow(row);
    return row;
  };
  L.buildRow = function (node) {
    var row = template.content.firstElementChild.cloneNode(true);
    return L.fillRow(row, node);
  };
  L.updateNode = function (node) {
    var row = L.rowById(node.id);
    if (row) { L.fillRow(row, node); syncRow(row); emit(); }
  };

  function prepareRow(row) {
    // One tab stop for the whole listing: rows are reached with the arrow keys.
    row.setAttribute("tabindex", "-1");
    row.querySelectorAll("a, input, button").forEach(function (el) { el.setAttribute("tabindex", "-1"); });
    row.querySelector(".row-menu").hidden = false;
    if (listing.classList.contains("grid")) { addThumbnail(row); }
    syncRow(row);
  }
  function addThumbnail(row) {
    if (!L.nodeOf(row).has_thumbnail) { return; }
    var thumb = row.querySelector(".thumb");
    if (thumb.querySelector("img")) { return; }
    thumb.appendChild(FF.el("img", { src: FF.apiNode(row.dataset.id, "thumbnail/?size=256"), alt: "", loading: "lazy" }));
  }
  // A picture that cannot be made into a thumbnail shows its icon instead.
  listing.addEventListener("error", function (event) {
    if (event.target.tagName === "IMG") { event.target.parentNode.removeChild(event.target); }
  }, true);

  L.addNodes = function (nodes, options) {
    var fragment = document.createDocumentFragment();
    var rows = nodes.map(function (node) {
      var row = L.buildRow(node);
      if (options && options.highlight) { row.classList.add("appear"); }
      fragment.appendChild(row);
      return row;
    });
    body.appendChild(fragment);
    afterChange();
    return rows;
  };
  L.removeIds = function (ids) {
    ids.forEach(function (id) {
      var row = L.rowById(id);
      if (row) { row.parentNode.removeChild(row); }
      selected.delete(String(id));
    });
    afterChange();
  };

  function afterChange() {
    var empty = document.getElementById("empty-state");
    if (empty) { empty.hidden = L.rows().length > 0; }
    ensureTabStop();
    emit();
  }

  // --- loading more ----------------------------------------------------------------------
  function cursorFrom(nextUrl) {
    if (!nextUrl) { return null; }
    try { return new URL(nextUrl, location.href).searchParams.get("cursor"); } catch (e) { return null; }
  }
  function listUrl(extra) {
    var params = { parent: L.folder.id, sort: config.sort, order: config.order };
    Object.keys(extra || {}).forEach(function (key) { params[key] = extra[key]; });
    return FF.config.urls.nodes + FF.query(params);
  }
  var moreBox = document.getElementById("load-more");
  function showMoreLink() {
    if (!moreBox) { return; }
    while (moreBox.firstChild) { moreBox.removeChild(moreBox.firstChild); }
    if (nextCursor) {
      moreBox.appendChild(FF.el("button", { type: "button", className: "button", id: "load-more-link", text: "Load more", onclick: L.loadMore }));
    }
  }
  L.loadMore = function () {
    if (!nextCursor || loading || L.filtered || !L.folder) { return loading; }
    if (moreBox) {
      while (moreBox.firstChild) { moreBox.removeChild(moreBox.firstChild); }
      moreBox.appendChild(FF.el("span", { className: "loading", role: "status", text: "Loading more…" }));
    }
    loading = FF.api("GET", listUrl({ limit: 100, cursor: nextCursor })).then(function (data) {
      L.addNodes(data.results);
      nextCursor = cursorFrom(data.next);
      loading = null;
      showMoreLink();
      // On a tall screen the end may still be in view: keep going until it is not.
      window.requestAnimationFrame(function () {
        if (moreBox && moreBox.getBoundingClientRect().top < window.innerHeight + 600) { L.loadMore(); }
      });
    }, function (error) {
      loading = null;
      showMoreLink();
      FF.toast("Could not load more items: " + error.message, { error: true });
    });
    return loading;
  };
  // Re-read the folder (after uploads, copies, undo): as many items as are loaded now.
  L.reload = function () {
    if (L.filtered || !L.folder) { return Promise.resolve(); }
    var want = Math.min(Math.max(L.rows().length + 20, 100), 1000);
    return FF.api("GET", listUrl({ limit: want })).then(function (data) {
      var known = {};
      L.rows().forEach(function (row) { known[row.dataset.id] = true; });
      var focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.id : null;
      while (body.firstChild) { body.removeChild(body.firstChild); }
      var fresh = data.results.filter(function (node) { return !known[node.id]; }).map(function (node) { return node.id; });
      L.addNodes(data.results);
      fresh.forEach(function (id) { var row = L.rowById(id); if (row) { row.classList.add("appear"); } });
      var ids = L.rows().map(function (row) { return row.dataset.id; });
      selected.forEach(function (id) { if (ids.indexOf(id) === -1) { selected.delete(id); } });
      L.rows().forEach(syncRow);
      nextCursor = cursorFrom(data.next);
      showMoreLink();
      if (focusedId && L.rowById(focusedId)) { L.rowById(focusedId).focus(); }
      emit();
    });
  };

  // --- selection ---------------------------------------------------------------------------
  function syncRow(row) {
    var on = selected.has(row.dataset.id);
    row.setAttribute("aria-selected", on ? "true" : "false");
    var box = row.querySelector(".check input");
    if (box) { box.checked = on; }
  }
  function emit() {
    var selectAll = document.getElementById("select-all");
    var count = L.rows().length;
    if (selectAll) {
      selectAll.checked = count > 0 && selected.size === count;
      selectAll.indeterminate = selected.size > 0 && selected.size < count;
    }
    listeners.forEach(function (listener) { listener(L.selectedRows()); });
  }
  L.selectedRows = function () { return L.rows().filter(function (row) { return selected.has(row.dataset.id); }); };
  L.selectedNodes = function () { return L.selectedRows().map(L.nodeOf); };
  L.set = function (rows) {
    selected.clear();
    rows.forEach(function (row) { selected.add(row.dataset.id); });
    L.rows().forEach(syncRow);
    emit();
  };
  L.toggle = function (row) {
    if (selected.has(row.dataset.id)) { selected.delete(row.dataset.id); } else { selected.add(row.dataset.id); }
    anchorId = row.dataset.id;
    syncRow(row);
    emit();
  };
  L.clear = function () { L.set([]); };
  L.selectAll = function () { L.set(L.rows()); };
  L.selectRange = function (row, additive) {
    var rows = L.rows();
    var from = anchorId ? rows.indexOf(L.rowById(anchorId)) : -1;
    var to = rows.indexOf(row);
    if (from === -1) { from = to; }
    var range = rows.slice(Math.min(from, to), Math.max(from, to) + 1);
    if (additive) { range = L.selectedRows().concat(range); }
    L.set(range);
  };
  L.selectOnly = function (row) {
    anchorId = row.dataset.id;
    L.set([row]);
  };

  // --- focus -----------------------------------------------------------------------------
  function ensureTabStop() {
    var rows = L.rows();
    if (!rows.length) { return; }
    var current = rows.filter(function (row) { return row.getAttribute("tabindex") === "0"; });
    if (!current.length) { rows[0].setAttribute("tabindex", "0"); }
  }
  L.focusRow = function (row, options) {
    if (!row) { return; }
    L.rows().forEach(function (other) { other.setAttribute("tabindex", other === row ? "0" : "-1"); });
    row.focus(options);
  };
  L.focusedRow = function () {
    var active = document.activeElement;
    var row = active && active.closest ? active.closest("#listing-body .row") : null;
    return row || L.selectedRows()[0] || null;
  };

  // --- mouse -----------------------------------------------------------------------------
  body.addEventListener("click", function (event) {
    var row = event.target.closest(".row");
    if (!row) { return; }
    var toggleKey = event.ctrlKey || event.metaKey;
    var onBox = event.target.closest(".check");
    var onLink = event.target.closest(".name-link");
    var onButton = event.target.closest(".row-menu, .download-link");
    if (onButton) {
      if (!selected.has(row.dataset.id)) { L.selectOnly(row); }
      return;
    }
    if (onBox) {
      event.preventDefault();
      L.toggle(row);
      L.focusRow(row);
      // The box's own default flips it back after this handler; settle it afterwards.
      window.setTimeout(function () { syncRow(row); }, 0);
      return;
    }
    if (onLink && !toggleKey && !event.shiftKey) {
      event.preventDefault();
      L.selectOnly(row);
      L.focusRow(row);
      FF.actions.open(row);
      return;
    }
    if (onLink) { event.preventDefault(); }
    if (event.shiftKey) { L.selectRange(row, toggleKey); }
    else if (toggleKey) { L.toggle(row); }
    else { L.selectOnly(row); }
    L.focusRow(row);
  });
  body.addEventListener("dblclick", function (event) {
    var row = event.target.closest(".row");
    if (row && !event.target.closest(".check, .actions, input")) { FF.actions.open(row); }
  });
  // A click on empty space clears the selection.
  document.getElementById("drive-main").addEventListener("click", function (event) {
    if (event.target.closest(".row, .selection-bar, .toolbar, .menu, .upload-panel, button, a, input, select, dialog")) { return; }
    if (selected.size) { L.clear(); }
  });
  var selectAllBox = document.getElementById("select-all");
  if (selectAllBox) {
    selectAllBox.hidden = false;
    selectAllBox.addEventListener("change", function () {
      if (selectAllBox.checked) { L.selectAll(); } else { L.clear(); }
    });
  }

  // --- keyboard ----------------------------------------------------------------------------
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) && target.type !== "checkbox";
  }
  function gridColumns() {
    var rows = L.rows();
    if (!listing.classList.contains("grid") || rows.length < 2) { return 1; }
    var top = rows[0].offsetTop;
    var n = 0;
    while (n < rows.length && rows[n].offsetTop === top) { n++; }
    return Math.max(n, 1);
  }
  function move(delta, extend) {
    var rows = L.rows();
    if (!rows.length) { return; }
    var current = L.focusedRow();
    var index = current ? rows.indexOf(current) : -1;
    var next = rows[Math.max(0, Math.min(rows.length - 1, index + delta))] || rows[0];
    if (index === -1) { next = rows[0]; }
    if (extend) { L.selectRange(next, false); } else { L.selectOnly(next); }
    L.focusRow(next);
    if (index + delta >= rows.length - 1) { L.loadMore(); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || typing(event.target) || document.querySelector("dialog[open]")) { return; }
    if (FF.menuOpen && FF.menuOpen()) { return; }
    var mod = event.ctrlKey || event.metaKey;
    var key = event.key;
    var inListing = !!(event.target.closest && event.target.closest("#listing"));
    if (mod && (key === "a" || key === "A")) {
      event.preventDefault();
      L.selectAll();
      return;
    }
    if (key === "Escape") {
      if (selected.size) { event.preventDefault(); L.clear(); }
      return;
    }
    if (key === "Delete" || (key === "Backspace" && event.metaKey)) {
      if (selected.size) { event.preventDefault(); FF.actions.trash(L.selectedRows()); }
      return;
    }
    if (key === "F2") {
      var target = L.selectedRows().length === 1 ? L.selectedRows()[0] : L.focusedRow();
      if (target) { event.preventDefault(); FF.actions.rename(target); }
      return;
    }
    if ((key === "i" || key === "I") && !mod && FF.details) {
      event.preventDefault();
      FF.details.toggle();
      return;
    }
    if (!inListing && !(key === "ArrowDown" && !selected.size && document.activeElement === document.body)) { return; }
    var columns = gridColumns();
    if (key === "ArrowDown") { event.preventDefault(); move(columns, event.shiftKey); }
    else if (key === "ArrowUp") { event.preventDefault(); move(-columns, event.shiftKey); }
    else if (key === "ArrowRight" && columns > 1) { event.preventDefault(); move(1, event.shiftKey); }
    else if (key === "ArrowLeft" && columns > 1) { event.preventDefault(); move(-1, event.shiftKey); }
    else if (key === "Home") { event.preventDefault(); move(-1e9, event.shiftKey); }
    else if (key === "End") { event.preventDefault(); move(1e9, event.shiftKey); }
    else if (key === "Enter") {
      var row = L.focusedRow();
      if (row) { event.preventDefault(); FF.actions.open(row); }
    } else if (key === " ") {
      var focused = L.focusedRow();
      if (focused) { event.preventDefault(); if (mod) { L.toggle(focused); } else { L.toggle(focused); } }
    } else if (key === "ContextMenu" || (key === "F10" && event.shiftKey)) {
      var at = L.focusedRow();
      if (at && FF.openContextMenu) {
        event.preventDefault();
        if (!selected.has(at.dataset.id)) { L.selectOnly(at); }
        var box = at.getBoundingClientRect();
        FF.openContextMenu(box.left + 40, box.bottom, "row");
      }
    }
  });

  // --- views -------------------------------------------------------------------------------
  function setView(view) {
    listing.classList.remove("list", "grid");
    listing.classList.add(view);
    listing.dataset.view = view;
    document.querySelectorAll(".view-switch").forEach(function (link) {
      if (link.dataset.view === view) { link.setAttribute("aria-current", "true"); } else { link.removeAttribute("aria-current"); }
    });
    if (view === "grid") { L.rows().forEach(addThumbnail); }
    document.cookie = "fileflow-view=" + view + "; path=/; max-age=31536000; samesite=lax";
    // Links that keep the view (sorting, paging) carry the new one.
    document.querySelectorAll(".sort-link, #load-more-link").forEach(function (link) {
      if (!link.href) { return; }
      var url = new URL(link.href);
      url.searchParams.set("view", view);
      link.setAttribute("href", url.pathname + url.search);
    });
  }
  document.querySelectorAll(".view-switch").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      setView(link.dataset.view);
    });
  });

  // The tag filter applies as soon as a tag is picked.
  var tagSelect = document.getElementById("tag-filter-select");
  if (tagSelect) {
    tagSelect.addEventListener("change", function () { tagSelect.form.submit(); });
  }

  // --- start ---------------------------------------------------------------------------------
  L.rows().forEach(prepareRow);
  ensureTabStop();
  var serverMore = document.getElementById("load-more-link");
  if (serverMore && L.folder && !L.filtered) {
    serverMore.addEventListener("click", function (event) {
      event.preventDefault();
      L.loadMore();
    });
  }
  if (moreBox && "IntersectionObserver" in window && L.folder && !L.filtered) {
    new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) { L.loadMore(); }
    }, { rootMargin: "600px 0px" }).observe(moreBox);
  }
})();
