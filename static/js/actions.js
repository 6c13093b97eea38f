// FileFlow: what can be done with the selection — open, download, rename (F2), move and copy
// (a folder picker), favourite, tags, trash (Delete) with undo — plus the right-click menu,
// the selection bar and "New folder". Every change goes through the REST API.
(function () {
  "use strict";
  var FF = window.FF;
  var L = FF.listing;
  var A = (FF.actions = {});

  function nodesOf(rows) { return rows.map(L.nodeOf); }
  function rowsOrSelection(rows) {
    if (rows && rows.length) { return rows; }
    return L ? L.selectedRows() : [];
  }
  function label(nodes) { return nodes.length === 1 ? "“" + nodes[0].name + "”" : FF.plural(nodes.length, "item"); }

  // Run one request per item, in order; report what failed.
  function each(nodes, request) {
    var done = [];
    var failed = [];
    return nodes.reduce(function (chain, node) {
      return chain.then(function () {
        return request(node).then(function (result) { done.push({ node: node, result: result }); },
          function (error) { failed.push({ node: node, error: error }); });
      });
    }, Promise.resolve()).then(function () { return { done: done, failed: failed }; });
  }
  function reportFailures(failed, what) {
    if (!failed.length) { return; }
    var first = failed[0];
    var more = failed.length > 1 ? " (and " + FF.plural(failed.length - 1, "other item") + ")" : "";
    FF.toast("Could not " + what + " “" + first.node.name + "”" + more + ": " + first.error.message, { error: true });
  }

  // --- open and download ----------------------------------------------------------------
  A.open = function (row) {
    var node = L.nodeOf(row);
    if (node.is_folder) { window.location.href = node.url; return; }
    if (FF.preview) { FF.preview.open(row); } else { window.location.href = node.url; }
  };
  function clickLink(href) {
    var link = FF.el("a", { href: href, download: "" });
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
  }
  A.download = function (rows) {
    var nodes = nodesOf(rowsOrSelection(rows));
    if (!nodes.length) { return; }
    if (nodes.length === 1) { clickLink(FF.url("download", nodes[0].id)); return; }
    clickLink(FF.config.urls.zip + FF.query({ ids: nodes.map(function (n) { return n.id; }).join(",") }));
  };

  // --- rename in place (F2) ---------------------------------------------------------------
  A.rename = function (row) {
    if (!row || row.querySelector(".rename-input")) { return; }
    var node = L.nodeOf(row);
    var link = row.querySelector(".name-link");
    var holder = link.parentNode;
    var input = FF.el("input", { type: "text", className: "rename-input", value: node.name, "aria-label": "New name for " + node.name, spellcheck: "false", autocomplete: "off" });
    var error = FF.el("span", { className: "inline-error", role: "alert", id: "rename-error-" + node.id, hidden: true });
    link.hidden = true;
    holder.insertBefore(input, link);
    holder.appendChild(error);
    input.focus();
    var dot = node.name.lastIndexOf(".");
    input.setSelectionRange(0, !node.is_folder && dot > 0 ? dot : node.name.length);
    var finished = false;
    function close(focusRow) {
      finished = true;
      input.remove();
      error.remove();
      link.hidden = false;
      if (focusRow) { L.focusRow(row); }
    }
    function save() {
      var name = input.value;
      // The server trims spaces at the ends (files/names.py); no request for a name that
      // would come back unchanged.
      if (name.trim() === node.name) { close(true); return; }
      input.disabled = true;
      FF.api("PATCH", FF.apiNode(node.id), { name: name }).then(function (updated) {
        close(true);
        L.updateNode(updated);
        FF.toast("Renamed to “" + updated.name + "”.");
        if (FF.details) { FF.details.refresh(); }
      }, function (problem) {
        input.disabled = false;
        error.textContent = problem.message;
        error.hidden = false;
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", error.id);
        input.focus();
      });
    }
    input.addEventListener("keydown", function (event) {
      event.stopPropagation();
      if (event.key === "Enter") { event.preventDefault(); save(); }
      else if (event.key === "Escape") { event.preventDefault(); close(true); }
    });
    input.addEventListener("click", function (event) { event.stopPropagation(); });
    input.addEventListener("dblclick", function (event) { event.stopPropagation(); });
    input.addEventListener("blur", function () {
      if (!finished && !input.disabled && input.value === node.name) { close(false); }
    });
  };

  // --- trash with undo (Delete) ----------------------------------------------------------
  A.trash = function (rows) {
    var nodes = nodesOf(rowsOrSelection(rows));
    if (!nodes.length) { return; }
    var all = L.rows();
    var nextRow = all[all.indexOf(L.rowById(nodes[nodes.length - 1].id)) + 1] || null;
    each(nodes, function (node) { return FF.api("DELETE", FF.apiNode(node.id)); }).then(function (outcome) {
      var gone = outcome.done.map(function (item) { return item.node; });
      L.removeIds(gone.map(function (node) { return node.id; }));
      if (nextRow && nextRow.isConnected) { L.focusRow(nextRow); }
      reportFailures(outcome.failed, "move to the trash");
      if (!gone.length) { return; }
      FF.toast((gone.length === 1 ? "“" + gone[0].name + "” was" : FF.plural(gone.length, "item") + " were") + " moved to the trash.", {
        actionLabel: "Undo",
        duration: 10000,
        onAction: function () { A.restore(gone); }
      });
    });
  };
  A.restore = function (nodes) {
    each(nodes, function (node) { return FF.api("POST", FF.apiNode(node.id, "restore/")); }).then(function (outcome) {
      reportFailures(outcome.failed, "restore");
      if (!outcome.done.length) { return; }
      var restored = outcome.done.map(function (item) { return item.result; });
      var here = restored.filter(function (node) { return L.folder && node.parent === L.folder.id; });
      var reload = L.filtered ? Promise.resolve() : L.reload();
      reload.then(function () {
        var rows = here.map(function (node) { return L.rowById(node.id); }).filter(Boolean);
        if (rows.length) { L.set(rows); L.focusRow(rows[0]); }
        FF.toast("Restored " + label(restored) + ".");
      });
    });
  };

  // --- favourites ------------------------------------------------------------------------
  A.favorite = function (rows) {
    var nodes = nodesOf(rowsOrSelection(rows));
    if (!nodes.length) { return; }
    var on = !nodes.every(function (node) { return node.is_favorite; });
    each(nodes, function (node) { return FF.api("PATCH", FF.apiNode(node.id), { is_favorite: on }); }).then(function (outcome) {
      outcome.done.forEach(function (item) { L.updateNode(item.result); });
      reportFailures(outcome.failed, on ? "add to favourites" : "remove from favourites");
      if (outcome.done.length) {
        FF.toast((on ? "Added " : "Removed ") + label(outcome.done.map(function (i) { return i.node; })) + (on ? " to favourites." : " from favourites."));
      }
      if (FF.details) { FF.details.refresh(); }
    });
  };

  // --- tags ----------------------------------------------------------------------------
  A.tags = function (rows) {
    var nodes = nodesOf(rowsOrSelection(rows));
    if (!nodes.length) { return; }
    var dialog = document.getElementById("tags-dialog");
    var input = document.getElementById("tags-dialog-input");
    var error = document.getElementById("tags-dialog-error");
    var single = nodes.length === 1;
    document.getElementById("tags-dialog-title").textContent = single ? "Tags of “" + nodes[0].name + "”" : "Add tags to " + FF.plural(nodes.length, "item");
    document.getElementById("tags-dialog-label").textContent = single ? "Tags" : "Tags to add";
    input.value = single ? nodes[0].tags.join(", ") : "";
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    var save = document.getElementById("tags-dialog-save");
    function submit() {
      var typed = input.value.split(",").map(function (t) { return t.trim(); }).filter(Boolean);
      save.disabled = true;
      each(nodes, function (node) {
        var tags = single ? typed : node.tags.concat(typed);
        return FF.api("PATCH", FF.apiNode(node.id), { tags: tags });
      }).then(function (outcome) {
        save.disabled = false;
        outcome.done.forEach(function (item) { L.updateNode(item.result); });
        if (outcome.failed.length) {
          error.textContent = outcome.failed[0].error.message;
          error.hidden = false;
          input.setAttribute("aria-invalid", "true");
          input.focus();
          return;
        }
        dialog.close("saved");
        rememberTags(typed);
        FF.toast("Tags saved.");
        if (FF.details) { FF.details.refresh(); }
      });
    }
    save.onclick = submit;
    input.onkeydown = function (event) {
      if (event.key === "Enter") { event.preventDefault(); submit(); }
    };
    FF.showDialog(dialog);
    input.focus();
  };

  // New tags become choices in the tag filter and in the tag suggestions.
  function rememberTags(names) {
    var filter = document.getElementById("tag-filter-select");
    var suggestions = document.getElementById("known-tags");
    names.forEach(function (name) {
      var lower = name.toLowerCase();
      [filter, suggestions].forEach(function (list) {
        if (!list) { return; }
        var options = Array.prototype.slice.call(list.querySelectorAll("option")).filter(function (option) { return option.value; });
        if (options.some(function (option) { return option.value.toLowerCase() === lower; })) { return; }
        var after = options.filter(function (option) { return option.value.toLowerCase() > lower; })[0] || null;
        list.insertBefore(FF.el("option", { value: name, text: name }), after);
      });
    });
  }

  // --- move and copy: the folder picker -------------------------------------------------
  var picker = document.getElementById("picker");
  A.move = function (rows) { openPicker(nodesOf(rowsOrSelection(rows)), "move"); };
  A.copy = function (rows) { openPicker(nodesOf(rowsOrSelection(rows)), "copy"); };

  function openPicker(nodes, mode) {
    if (!nodes.length || !picker) { return; }
    var moving = {};
    nodes.forEach(function (node) { moving[node.id] = true; });
    var title = document.getElementById("picker-title");
    var list = document.getElementById("picker-list");
    var crumbs = document.getElementById("picker-crumbs");
    var error = document.getElementById("picker-error");
    var note = document.getElementById("picker-note");
    var confirm = document.getElementById("picker-confirm");
    var verb = mode === "copy" ? "Copy" : "Move";
    title.textContent = verb + " " + label(nodes) + " to…";
    var here = null;
    var inside = false; // is the folder being viewed one of the moved folders, or inside one?
    var crumbTrail = [];

    function showError(message) { error.textContent = message; error.hidden = !message; }
    function load(folderId) {
      showError("");
      confirm.disabled = true;
      while (list.firstChild) { list.removeChild(list.firstChild); }
      list.appendChild(FF.el("li", { className: "picker-empty", text: "Loading…" }));
      var params = { sort: "name", limit: 500 };
      if (folderId) { params.parent = folderId; }
      return FF.api("GET", FF.config.urls.nodes + FF.query(params)).then(function (data) {
        here = data.folder;
        render(data);
      }, function (problem) { showError(problem.message); });
    }
    function render(data) {
      // The trail of folders walked through, trimmed to where we are.
      var at = crumbTrail.findIndex(function (c) { return c.id === here.id; });
      if (at >= 0) { crumbTrail = crumbTrail.slice(0, at + 1); } else { crumbTrail.push({ id: here.id, name: here.name || "Your files" }); }
      inside = crumbTrail.some(function (c) { return moving[c.id]; });
      while (crumbs.firstChild) { crumbs.removeChild(crumbs.firstChild); }
      crumbTrail.forEach(function (crumb, index) {
        var last = index === crumbTrail.length - 1;
        var item = FF.el("li");
        if (last) { item.appendChild(FF.el("strong", { text: crumb.name, "aria-current": "location" })); }
        else {
          item.appendChild(FF.el("button", { type: "button", className: "crumb picker-crumb", text: crumb.name, onclick: function () { load(crumb.id); } }));
          item.appendChild(FF.icon("right", "crumb-sep"));
        }
        crumbs.appendChild(item);
      });
      while (list.firstChild) { list.removeChild(list.firstChild); }
      var folders = data.results.filter(function (node) { return node.is_folder; });
      folders.forEach(function (folder) {
        var blocked = !!moving[folder.id];
        list.appendChild(FF.el("li", {}, [FF.el("button", {
          type: "button", className: "picker-item", disabled: blocked,
          title: blocked ? "This folder is being " + (mode === "copy" ? "copied" : "moved") : null,
          onclick: function () { load(folder.id); }
        }, [FF.icon("folder"), FF.el("span", { text: folder.name })])]));
      });
      if (!folders.length) { list.appendChild(FF.el("li", { className: "picker-empty", text: "No folders in here." })); }
      var alreadyHere = mode === "move" && nodes.every(function (node) { return node.parent === here.id; });
      confirm.textContent = verb + " here";
      confirm.disabled = inside || alreadyHere;
      note.textContent = inside ? "A folder cannot go into itself or one of its own subfolders; choose another folder."
        : alreadyHere ? "Already in this folder. Open the folder to move to, then choose “Move here”."
        : "Open a folder, then choose “" + verb + " here”.";
      var first = list.querySelector(".picker-item:not([disabled])");
      (first || confirm).focus();
    }

    document.getElementById("picker-new-folder").onclick = function () {
      if (list.querySelector(".picker-new")) { return; }
      var input = FF.el("input", { type: "text", "aria-label": "Name of the new folder", placeholder: "New folder name" });
      var create = function () {
        FF.api("POST", FF.config.urls.nodes, { parent: here.id, name: input.value }).then(function (folder) {
          return load(folder.id);
        }, function (problem) { showError(problem.message); input.focus(); });
      };
      input.addEventListener("keydown", function (event) {
        if (event.key === "Enter") { event.preventDefault(); create(); }
      });
      var row = FF.el("li", { className: "picker-new" }, [input, FF.el("button", { type: "button", className: "button small primary", text: "Create", onclick: create })]);
      list.insertBefore(row, list.firstChild);
      input.focus();
    };
    confirm.onclick = function () {
      confirm.disabled = true;
      var target = here;
      each(nodes, function (node) {
        return mode === "copy"
          ? FF.api("POST", FF.apiNode(node.id, "copy/"), { parent: target.id })
          : FF.api("PATCH", FF.apiNode(node.id), { parent: target.id });
      }).then(function (outcome) {
        confirm.disabled = false;
        var done = outcome.done.map(function (item) { return item.node; });
        var targetName = target.name || "Your files";
        if (mode === "move" && L.folder && target.id !== L.folder.id) {
          L.removeIds(done.map(function (node) { return node.id; }));
        } else if (!L.filtered) {
          L.reload();
        }
        if (outcome.failed.length) {
          var first = outcome.failed[0];
          showError("“" + first.node.name + "”: " + first.error.message);
          nodes = outcome.failed.map(function (item) { return item.node; });
          if (done.length) { FF.toast((mode === "copy" ? "Copied " : "Moved ") + label(done) + " to “" + targetName + "”."); }
          return;
        }
        picker.close("done");
        FF.toast((mode === "copy" ? "Copied " : "Moved ") + label(done) + " to “" + targetName + "”.", {
          actionLabel: "Open folder",
          onAction: function () { window.location.href = target.parent === null && !target.shared ? FF.config.urls.home : FF.url("folder", target.id); }
        });
      });
    };
    crumbTrail = [];
    // Start in the folder being viewed, with its path as the trail.
    var startCrumbs = document.querySelectorAll(".breadcrumbs .crumb[data-folder-id]");
    startCrumbs.forEach(function (crumb) { crumbTrail.push({ id: Number(crumb.dataset.folderId), name: crumb.textContent.trim() }); });
    FF.showDialog(picker);
    load(L.folder ? L.folder.id : null);
  }

  // --- new folder (the toolbar's form, without a page load) ----------------------------
  var newFolderForm = document.getElementById("new-folder-form");
  A.newFolder = function () {
    var popover = document.getElementById("new-folder");
    if (!popover) { return; }
    popover.open = true;
    var input = newFolderForm.querySelector("input[name=name]");
    input.focus();
    input.select();
  };
  if (newFolderForm && L && L.folder) {
    newFolderForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = newFolderForm.querySelector("input[name=name]");
      var field = input.closest(".field");
      var old = field.querySelector(".field-error");
      if (old) { old.remove(); }
      FF.api("POST", FF.config.urls.nodes, { parent: L.folder.id, name: input.value }).then(function (folder) {
        document.getElementById("new-folder").open = false;
        input.value = "";
        field.classList.remove("has-error");
        input.removeAttribute("aria-invalid");
        return L.reload().then(function () {
          var row = L.rowById(folder.id);
          if (row) { L.selectOnly(row); L.focusRow(row); }
          FF.toast("Folder “" + folder.name + "” created.");
        });
      }, function (problem) {
        field.classList.add("has-error");
        var message = FF.el("div", { className: "field-error", id: "new-folder-error", role: "alert" }, [FF.el("p", { text: problem.message })]);
        input.after(message);
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", "new-folder-error");
        input.focus();
      });
    });
  }
  // Popovers close on Esc and on a click elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.popover[open]").forEach(function (popover) {
      if (!popover.contains(event.target)) { popover.open = false; }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll("details.popover[open]").forEach(function (popover) {
      popover.open = false;
      popover.querySelector("summary").focus();
    });
  });

  if (!L) { return; }

  // --- the selection bar ------------------------------------------------------------------
  var bar = document.getElementById("selection-bar");
  var count = document.getElementById("selection-count");
  L.onChange(function (rows) {
    if (!bar) { return; }
    bar.hidden = rows.length === 0;
    count.textContent = rows.length + " selected";
    bar.querySelectorAll("[data-single]").forEach(function (button) { button.hidden = rows.length !== 1; });
    var favButton = bar.querySelector('[data-action="favorite"] span');
    var allFav = rows.length && rows.every(function (row) { return row.dataset.favorite === "1"; });
    favButton.textContent = allFav ? "Unfavourite" : "Favourite";
  });
  function run(action, rows) {
    rows = rows || L.selectedRows();
    switch (action) {
      case "clear": L.clear(); break;
      case "open": if (rows[0]) { A.open(rows[0]); } break;
      case "download": A.download(rows); break;
      case "rename": if (rows[0]) { A.rename(rows[0]); } break;
      case "move": A.move(rows); break;
      case "copy": A.copy(rows); break;
      case "favorite": A.favorite(rows); break;
      case "tags": A.tags(rows); break;
      case "share": if (rows[0] && window.FileFlowShare) { window.FileFlowShare.open(L.nodeOf(rows[0])); } break;
      case "details": if (FF.details) { FF.details.show(); } break;
      case "trash": A.trash(rows); break;
      case "new-folder": A.newFolder(); break;
      case "upload-files": if (FF.upload) { FF.upload.pickFiles(); } break;
      case "upload-folder": if (FF.upload) { FF.upload.pickFolder(); } break;
      case "select-all": L.selectAll(); break;
    }
  }
  if (bar) {
    bar.addEventListener("click", function (event) {
      var button = event.target.closest("[data-action]");
      if (button) { run(button.dataset.action); }
    });
  }

  // --- the context menu ----------------------------------------------------------------------
  var rowMenu = document.getElementById("context-menu");
  var backgroundMenu = document.getElementById("background-menu");
  var openMenu = null;
  var returnFocus = null;
  FF.menuOpen = function () { return !!openMenu; };
  function closeMenu(restoreFocus) {
    if (!openMenu) { return; }
    openMenu.hidden = true;
    openMenu = null;
    if (restoreFocus && returnFocus) { returnFocus.focus(); }
  }
  FF.openContextMenu = function (x, y, which) {
    closeMenu(false);
    var menu = which === "row" ? rowMenu : backgroundMenu;
    if (!menu || (which !== "row" && !L.folder)) { return; }
    returnFocus = document.activeElement;
    var rows = L.selectedRows();
    if (which === "row") {
      var single = rows.length === 1;
      menu.querySelectorAll("[data-single]").forEach(function (item) { item.hidden = !single; });
      var first = rows[0] && L.nodeOf(rows[0]);
      var openItem = menu.querySelector('[data-action="open"]');
      openItem.hidden = !single;
      openItem.querySelector("[data-label]").textContent = first && first.is_folder ? "Open" : "Preview";
      var allFav = rows.every(function (row) { return row.dataset.favorite === "1"; });
      menu.querySelector('[data-action="favorite"] [data-label]').textContent = allFav ? "Remove from favourites" : "Add to favourites";
      menu.setAttribute("aria-label", single ? "Actions for " + first.name : "Actions for " + rows.length + " items");
    }
    menu.hidden = false;
    var width = menu.offsetWidth;
    var height = menu.offsetHeight;
    menu.style.setProperty("left", Math.max(4, Math.min(x, window.innerWidth - width - 4)) + "px");
    menu.style.setProperty("top", Math.max(4, Math.min(y, window.innerHeight - height - 4)) + "px");
    openMenu = menu;
    var items = menu.querySelectorAll(".menu-item:not([hidden])");
    if (items[0]) { items[0].focus(); }
  };
  [rowMenu, backgroundMenu].forEach(function (menu) {
    if (!menu) { return; }
    menu.addEventListener("click", function (event) {
      var item = event.target.closest("[data-action]");
      if (!item) { return; }
      var rows = L.selectedRows();
      closeMenu(true);
      run(item.dataset.action, rows);
    });
    menu.addEventListener("keydown", function (event) {
      var items = Array.prototype.slice.call(menu.querySelectorAll(".menu-item:not([hidden])"));
      var index = items.indexOf(document.activeElement);
      if (event.key === "ArrowDown") { event.preventDefault(); items[(index + 1) % items.length].focus(); }
      else if (event.key === "ArrowUp") { event.preventDefault(); items[(index - 1 + items.length) % items.length].focus(); }
      else if (event.key === "Home") { event.preventDefault(); items[0].focus(); }
      else if (event.key === "End") { event.preventDefault(); items[items.length - 1].focus(); }
      else if (event.key === "Escape" || event.key === "Tab") { event.preventDefault(); closeMenu(true); }
    });
  });
  document.addEventListener("contextmenu", function (event) {
    var row = event.target.closest("#listing-body .row");
    var inZone = event.target.closest("#drop-zone");
    if (event.target.closest("input, textarea, .rename-input")) { return; }
    if (row) {
      event.preventDefault();
      if (L.selectedRows().indexOf(row) === -1) { L.selectOnly(row); }
      // The row under the pointer is on screen: scrolling it into view would move the
      // page under the menu (and scrolling closes the menu).
      L.focusRow(row, { preventScroll: true });
      FF.openContextMenu(event.clientX, event.clientY, "row");
    } else if (inZone && L.folder) {
      event.preventDefault();
      FF.openContextMenu(event.clientX, event.clientY, "background");
    }
  });
  document.addEventListener("mousedown", function (event) {
    if (openMenu && !openMenu.contains(event.target)) { closeMenu(false); }
  });
  window.addEventListener("resize", function () { closeMenu(false); });
  window.addEventListener("scroll", function () { closeMenu(false); }, true);
  L.body.addEventListener("click", function (event) {
    var button = event.target.closest(".row-menu");
    if (!button) { return; }
    event.stopPropagation();
    var row = button.closest(".row");
    if (L.selectedRows().indexOf(row) === -1) { L.selectOnly(row); }
    var box = button.getBoundingClientRect();
    FF.openContextMenu(box.right - 232, box.bottom + 4, "row");
  });
})();
