// FileFlow: uploads — drag-and-drop of files and whole folders (the tree is recreated), the
// Upload button, a progress bar per file and in total with speed and time left, cancel,
// retry, and one question per batch when names already exist (keep both / replace / skip).
//
// A file goes up with XMLHttpRequest PUT /api/v1/files/content/?path=…, sending the File
// object itself: the browser streams it from disk, it is never read into memory. Small files
// bound for the same folder go up together, up to 50 in one POST /api/v1/nodes/upload-many/
// (one request, transaction and tree update instead of one each); if such a batch is refused
// for any reason, its files go up one by one, so that each gets its own answer (a name that
// exists, no space left, …) exactly as if they had never been grouped.
(function () {
  "use strict";
  var FF = window.FF;
  var L = FF.listing;
  var folder = FF.config.folder;
  if (!folder || !L) { return; }

  var PARALLEL = 3;
  var BATCH_FILES = 50;
  var BATCH_BYTES = 8 * 1024 * 1024;
  var SMALL = 1024 * 1024;
  var panel = document.getElementById("upload-panel");
  var list = document.getElementById("upload-list");
  var totalBar = document.getElementById("upload-total-progress");
  var totalText = document.getElementById("upload-total-text");
  var panelTitle = document.getElementById("upload-panel-title");
  var cancelAll = document.getElementById("upload-cancel-all");
  var retryAll = document.getElementById("upload-retry-all");
  var conflictDialog = document.getElementById("conflict-dialog");
  var items = [];
  var queue = [];
  var active = 0;
  var samples = [];
  var batchCount = 0;
  var renderPending = false;
  var reloadTimer = null;

  var U = (FF.upload = {});

  // --- collecting what was dropped ----------------------------------------------------
  function readAll(reader) {
    // readEntries answers in batches (100 in Chromium) until it answers with none.
    return new Promise(function (resolve, reject) {
      var found = [];
      (function next() {
        reader.readEntries(function (batch) {
          if (!batch.length) { resolve(found); return; }
          found = found.concat(Array.prototype.slice.call(batch));
          next();
        }, reject);
      })();
    });
  }
  function walk(entry, prefix, out) {
    if (entry.isFile) {
      return new Promise(function (resolve) {
        entry.file(function (file) {
          out.files.push({ file: file, relativePath: prefix + entry.name });
          resolve();
        }, function () {
          out.unreadable.push(prefix + entry.name);
          resolve();
        });
      });
    }
    if (entry.isDirectory) {
      return readAll(entry.createReader()).then(function (children) {
        if (!children.length) { out.emptyFolders.push(prefix + entry.name); }
        return Promise.all(children.map(function (child) { return walk(child, prefix + entry.name + "/", out); }));
      }, function () { out.unreadable.push(prefix + entry.name + "/"); });
    }
    return Promise.resolve();
  }
  // Must run inside the drop event: DataTransfer items are gone once it returns.
  function collect(dataTransfer) {
    var out = { files: [], emptyFolders: [], unreadable: [] };
    var entries = [];
    Array.prototype.forEach.call(dataTransfer.items || [], function (item) {
      if (item.kind === "file" && item.webkitGetAsEntry) {
        var entry = item.webkitGetAsEntry();
        if (entry) { entries.push(entry); }
      }
    });
    if (!entries.length) {
      Array.prototype.forEach.call(dataTransfer.files || [], function (file) {
        out.files.push({ file: file, relativePath: file.name });
      });
      return Promise.resolve(out);
    }
    return Promise.all(entries.map(function (entry) { return walk(entry, "", out); })).then(function () { return out; });
  }

  // --- the queue ------------------------------------------------------------------------
  function targetPath(relativePath) {
    var base = folder.path === "/" ? "" : folder.path;
    return base + "/" + relativePath.split("/").filter(Boolean).join("/");
  }
  U.enqueue = function (files, emptyFolders) {
    if (!files.length && !(emptyFolders || []).length) { return; }
    var batch = { id: ++batchCount, choice: null, asking: null, waiting: [] };
    files.forEach(function (entry) {
      var item = {
        file: entry.file, relativePath: entry.relativePath, path: targetPath(entry.relativePath),
        batch: batch, state: "queued", loaded: 0, total: entry.file.size, error: "", xhr: null,
        onConflict: "fail", samples: []
      };
      item.element = buildItem(item);
      list.appendChild(item.element);
      items.push(item);
      queue.push(item);
    });
    (emptyFolders || []).forEach(function (path) { ensureFolder(path); });
    panel.hidden = false;
    panel.classList.remove("collapsed");
    pump();
    render();
  };
  function pump() {
    while (active < PARALLEL && queue.length) {
      var item = queue.shift();
      var group = batchable(item) ? groupWith(item) : [item];
      if (group.length > 1) { startGroup(group); } else { start(item); }
    }
    render();
  }

  // --- small files, several to a request --------------------------------------------------
  function dirOf(item) { return item.relativePath.split("/").filter(Boolean).slice(0, -1).join("/"); }
  // A multipart part's file name is escaped by the browser and cleaned by the server (quotes,
  // backslashes, "&…;", unprintable characters), so only plain names travel that way.
  function plainName(name) { return !/["\\&\p{C}]/u.test(name) && !/\p{Z}/u.test(name.replace(/ /g, "")); }
  function batchable(item) {
    return !item.single && !folder.shared && item.onConflict === "fail" && item.total <= SMALL && plainName(item.file.name);
  }
  function groupWith(first) {
    var group = [first];
    var bytes = first.total;
    var dir = dirOf(first);
    queue = queue.filter(function (other) {
      if (group.length < BATCH_FILES && batchable(other) && dirOf(other) === dir && bytes + other.total <= BATCH_BYTES) {
        group.push(other);
        bytes += other.total;
        return false;
      }
      return true;
    });
    return group;
  }
  function startGroup(group) {
    active++;
    var bytes = 0;
    group.forEach(function (item) {
      item.state = "uploading";
      item.loaded = 0;
      item.error = "";
      item.samples = [];
      item.group = group;
      bytes += item.total;
    });
    folderIdFor(dirOf(group[0])).then(function (parentId) {
      if (group.ended) { return; }
      var form = new FormData();
      form.append("parent", parentId);
      form.append("on_conflict", "fail");
      group.forEach(function (item) { form.append("file", item.file, item.file.name); });
      var xhr = (group.xhr = new XMLHttpRequest());
      // The folder in the URL too: a batch that does not fit is refused before it is sent.
      xhr.open("POST", FF.config.urls.uploadMany + "?parent=" + encodeURIComponent(parentId));
      xhr.setRequestHeader("X-CSRFToken", FF.csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (event) {
        var share = Math.min(1, event.loaded / (event.total || bytes || 1));
        group.forEach(function (item) {
          item.loaded = Math.round(item.total * share);
          sample(item.samples, item.loaded);
        });
        render();
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        var stored = (xhr.status === 200 || xhr.status === 201) && body && body.results && body.results.length === group.length;
        if (stored) { group.forEach(function (item, index) { item.result = body.results[index]; }); }
        endGroup(group, stored);
        if (stored) { uploadedInto(); }
      });
      xhr.addEventListener("error", function () { endGroup(group, false); });
      xhr.addEventListener("abort", function () { endGroup(group, false); });
      xhr.send(form);
    }, function () { endGroup(group, false); });
  }
  // Stored: every file is done. Else every file not cancelled meanwhile goes up on its own.
  function endGroup(group, stored) {
    if (group.ended) { return; }
    group.ended = true;
    active--;
    var again = [];
    group.forEach(function (item) {
      item.group = null;
      if (item.state !== "uploading") { return; }
      if (stored) {
        item.state = "done";
        item.loaded = item.total;
        return;
      }
      item.state = "queued";
      item.loaded = 0;
      item.single = true;
      again.push(item);
    });
    queue = again.concat(queue);
    pump();
  }
  // Cancelling one file of a group stops the request; the others go up on their own.
  function cancelInGroup(item) {
    item.state = "cancelled";
    stopGroup(item.group);
  }
  function stopGroup(group) {
    if (group.xhr) { group.xhr.abort(); } else { endGroup(group, false); }
  }
  function start(item) {
    active++;
    // Which start this is: a step that ends after a cancel (and maybe a retry) is stale.
    item.attempt = (item.attempt || 0) + 1;
    item.state = "uploading";
    item.loaded = 0;
    item.error = "";
    item.samples = [];
    if (resumable(item)) { startResumable(item); return; }
    var xhr = (item.xhr = new XMLHttpRequest());
    if (folder.shared) { return startInFolder(item, xhr); }
    xhr.open("PUT", FF.config.urls.uploadToPath + FF.query({ path: item.path, on_conflict: item.onConflict }));
    xhr.setRequestHeader("X-CSRFToken", FF.csrfToken());
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("Accept", "application/json");
    watch(item, xhr);
    xhr.send(item.file);
    render();
  }
  // A folder shared with me: its path is not one of mine, so the file goes up by folder id
  // (a multipart form naming the file exactly).
  function startInFolder(item, xhr) {
    var attempt = item.attempt;
    folderIdFor(dirOf(item)).then(function (parentId) {
      if (item.state !== "uploading" || item.attempt !== attempt) { return; }
      var form = new FormData();
      form.append("parent", parentId);
      form.append("name", item.file.name);
      form.append("on_conflict", item.onConflict);
      form.append("file", item.file, item.file.name);
      xhr.open("POST", FF.config.urls.upload + "?parent=" + encodeURIComponent(parentId));
      xhr.setRequestHeader("X-CSRFToken", FF.csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      watch(item, xhr);
      xhr.send(form);
    }, function (error) {
      if (item.attempt !== attempt) { return; }
      item.error = error.message;
      finish(item, "error");
    });
    render();
  }
  function watch(item, xhr) {
    xhr.upload.addEventListener("progress", function (event) {
      item.loaded = event.loaded;
      sample(item.samples, event.loaded);
      render();
    });
    xhr.addEventListener("load", function () {
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 200 || xhr.status === 201) {
        finish(item, "done");
        item.result = body;
        uploadedInto(item);
      } else if (xhr.status === 409 && body && body.code === "name_conflict" && item.onConflict === "fail") {
        item.loaded = 0;
        finish(item, "conflict");
        conflict(item);
      } else {
        item.error = FF.errorText(body, xhr.status);
        finish(item, "error");
      }
    });
    xhr.addEventListener("error", function () {
      item.error = "The connection was lost while sending this file. Retry when you are back online.";
      finish(item, "error");
    });
    xhr.addEventListener("abort", function () { finish(item, "cancelled"); });
  }
  // --- big files: resumable (tus, see tus.js), with pause and resume ------------------------
  function resumable(item) {
    var threshold = FF.config.tusThreshold;
    return !!FF.tusUpload && typeof threshold === "number" && item.total >= threshold && item.total > 0;
  }
  // In a folder shared with me its path is not one of mine: the upload names it by id.
  function startResumable(item) {
    if (!folder.shared) { return resumableTo(item, { folderPath: dirPath(item) }); }
    var attempt = item.attempt;
    folderIdFor(dirOf(item)).then(function (parentId) {
      if (item.state === "uploading" && item.attempt === attempt) { resumableTo(item, { parent: parentId }); }
    }, function (error) {
      if (item.attempt !== attempt) { return; }
      item.error = error.message;
      finish(item, "error");
    });
    render();
  }
  function dirPath(item) {
    var parts = item.path.split("/");
    parts.pop();
    return parts.join("/") || "/";
  }
  function resumableTo(item, where) {
    item.tus = FF.tusUpload({
      file: item.file,
      folderPath: where.folderPath,
      parent: where.parent,
      name: item.path.split("/").pop(),
      onConflict: item.onConflict,
      onProgress: function (loaded) {
        item.loaded = loaded;
        item.waiting = 0;
        sample(item.samples, loaded);
        render();
      },
      onWait: function (seconds) { item.waiting = seconds; item.samples = []; render(); },
      onSuccess: function () {
        finish(item, "done");
        item.tus = null;
        uploadedInto(item);
      },
      onError: function (status, body) {
        item.tus = null;
        if (status === 409 && body && body.code === "name_conflict" && item.onConflict === "fail") {
          item.loaded = 0;
          finish(item, "conflict");
          conflict(item);
        } else {
          item.error = FF.errorText(body, status);
          finish(item, "error");
        }
      }
    });
    render();
  }
  function pause(item) {
    if (item.state !== "uploading" || !item.tus) { return; }
    item.tus.pause();
    item.state = "paused";
    item.samples = [];
    active--;
    pump();
  }
  function resume(item) {
    if (item.state !== "paused" || !item.tus) { return; }
    item.state = "uploading";
    active++;
    item.tus.resume();
    render();
  }

  function finish(item, state) {
    if (item.state !== "uploading") { return; }
    active--;
    item.state = state;
    item.xhr = null;
    if (state === "done") { item.loaded = item.total; }
    pump();
  }
  function cancel(item) {
    if (item.state === "uploading" && item.group) { cancelInGroup(item); return; }
    // A request under way: aborting it ends the item (its "abort" event).
    if (item.state === "uploading" && item.xhr && item.xhr.readyState !== XMLHttpRequest.UNSENT) { item.xhr.abort(); return; }
    if ((item.state === "uploading" || item.state === "paused") && item.tus) {
      item.tus.abort();
      item.tus = null;
      if (item.state === "paused") { item.state = "uploading"; active++; }
      finish(item, "cancelled");
      return;
    }
    // Between steps (the folder it goes to still being looked up or made): nothing has gone
    // out yet, and the step, when it ends, finds the item cancelled and sends nothing.
    if (item.state === "uploading") {
      finish(item, "cancelled");
      return;
    }
    if (item.state === "queued" || item.state === "conflict") {
      queue = queue.filter(function (other) { return other !== item; });
      item.batch.waiting = item.batch.waiting.filter(function (other) { return other !== item; });
      item.state = "cancelled";
      render();
    }
  }
  function retry(item) {
    if (item.state !== "error" && item.state !== "cancelled") { return; }
    item.state = "queued";
    item.loaded = 0;
    queue.push(item);
    pump();
  }

  // --- names that exist: ask once per batch ---------------------------------------------
  function conflict(item) {
    var batch = item.batch;
    if (batch.choice) { apply(item, batch.choice); return; }
    batch.waiting.push(item);
    describeConflicts(batch);
    if (batch.asking) { render(); return; }
    batch.asking = FF.showDialog(conflictDialog).then(function (value) {
      batch.choice = value === "rename" || value === "replace" ? value : "skip";
      var waiting = batch.waiting;
      batch.waiting = [];
      waiting.forEach(function (other) { apply(other, batch.choice); });
    });
    render();
  }
  function describeConflicts(batch) {
    var first = batch.waiting[0];
    var others = batch.waiting.length - 1;
    var where = folder.path === "/" ? "Your files" : folder.path;
    document.getElementById("conflict-text").textContent = others
      ? "“" + first.relativePath + "” and " + FF.plural(others, "other file") + " already exist in " + where + "."
      : "“" + first.relativePath + "” already exists in " + where + ".";
  }
  function apply(item, choice) {
    if (item.state !== "conflict") { return; }
    if (choice === "skip") { item.state = "skipped"; render(); return; }
    item.onConflict = choice;
    item.state = "queued";
    queue.unshift(item);
    pump();
  }

  // --- folders -------------------------------------------------------------------------------
  // A PUT makes missing folders on the way. A group of small files and an empty folder need
  // the folder first: made here one level at a time, each level asked for once per page.
  var folderIds = { "": Promise.resolve(folder.id) };
  function folderIdFor(relativeDir) {
    var key = "";
    var chain = folderIds[""];
    relativeDir.split("/").filter(Boolean).forEach(function (name) {
      var parent = chain;
      key = key ? key + "/" + name : name;
      var path = targetPath(key);
      if (!folderIds[key]) {
        var mine = (folderIds[key] = parent.then(function (parentId) {
          return FF.api("POST", FF.config.urls.nodes, { parent: parentId, name: name }).then(function (made) {
            return made.id;
          }, function (error) {
            if (error.status !== 409) { throw error; }
            return FF.api("GET", FF.config.urls.nodes + FF.query({ path: path, limit: 1 })).then(function (data) { return data.folder.id; });
          });
        }));
        var remembered = key;
        // A failure is not remembered: the next file may try again.
        mine.catch(function () { if (folderIds[remembered] === mine) { delete folderIds[remembered]; } });
      }
      chain = folderIds[key];
    });
    return chain;
  }
  function ensureFolder(relativePath) {
    return folderIdFor(relativePath).then(scheduleReload, function (error) {
      FF.toast("Could not create the folder “" + relativePath + "”: " + error.message, { error: true });
    });
  }

  // --- after an upload: show it in the folder -------------------------------------------
  function uploadedInto() {
    scheduleReload();
    FF.usageChanged();
  }
  function scheduleReload() {
    window.clearTimeout(reloadTimer);
    reloadTimer = window.setTimeout(function () {
      L.reload();
      if (FF.refreshUsage) { FF.refreshUsage(); }
    }, active ? 1200 : 200);
  }

  // --- progress: numbers ------------------------------------------------------------------
  function sample(list, loaded) {
    var now = performance.now();
    list.push([now, loaded]);
    while (list.length > 2 && now - list[0][0] > 5000) { list.shift(); }
  }
  function speedOf(list) {
    if (list.length < 2) { return 0; }
    var first = list[0];
    var last = list[list.length - 1];
    var seconds = (last[0] - first[0]) / 1000;
    return seconds > 0.2 ? (last[1] - first[1]) / seconds : 0;
  }
  function counted(item) { return item.state !== "skipped" && item.state !== "cancelled"; }

  // --- progress: the panel ------------------------------------------------------------------
  function buildItem(item) {
    var status = FF.el("span", { className: "upload-status" });
    var bar = FF.el("progress", { max: item.total || 1, value: 0, "aria-label": "Progress of " + item.relativePath });
    var cancelButton = FF.el("button", { type: "button", className: "icon-button", "aria-label": "Cancel " + item.relativePath, title: "Cancel", onclick: function () { cancel(item); } }, [FF.icon("close")]);
    var retryButton = FF.el("button", { type: "button", className: "icon-button", "aria-label": "Retry " + item.relativePath, title: "Retry", hidden: true, onclick: function () { retry(item); } }, [FF.icon("restore")]);
    var pauseButton = FF.el("button", { type: "button", className: "button ghost small", "aria-label": "Pause " + item.relativePath, text: "Pause", hidden: true, onclick: function () { pause(item); } });
    var resumeButton = FF.el("button", { type: "button", className: "button ghost small", "aria-label": "Resume " + item.relativePath, text: "Resume", hidden: true, onclick: function () { resume(item); } });
    var element = FF.el("li", { className: "upload-item" }, [
      FF.el("span", { className: "upload-name", text: item.relativePath, title: item.relativePath }),
      FF.el("span", { className: "upload-item-actions" }, [pauseButton, resumeButton, retryButton, cancelButton]),
      bar,
      status
    ]);
    item.parts = { status: status, bar: bar, cancel: cancelButton, retry: retryButton, pause: pauseButton, resume: resumeButton };
    return element;
  }
  function statusText(item) {
    switch (item.state) {
      case "queued": return "Waiting…";
      case "paused": return "Paused at " + FF.formatSize(item.loaded) + " of " + FF.formatSize(item.total);
      case "uploading": {
        var speed = speedOf(item.samples);
        var text = FF.formatSize(item.loaded) + " of " + FF.formatSize(item.total);
        if (item.waiting) { return text + " · connection lost, trying again in " + item.waiting + " s"; }
        if (speed > 0) {
          text += " · " + FF.formatSize(speed) + "/s";
          var left = FF.formatDuration((item.total - item.loaded) / speed);
          if (left) { text += " · " + left + " left"; }
        }
        return text;
      }
      case "done": return item.onConflict === "replace" ? "Replaced (the old one is kept as a version)" : "Uploaded";
      case "conflict": return "A file with this name exists — waiting for your choice";
      case "skipped": return "Skipped: a file with this name exists";
      case "cancelled": return "Cancelled";
      case "error": return item.error;
    }
    return "";
  }
  function render() {
    if (renderPending) { return; }
    renderPending = true;
    window.requestAnimationFrame(draw);
  }
  function draw() {
    renderPending = false;
    var total = 0;
    var loaded = 0;
    var done = 0;
    var failed = 0;
    var counting = 0;
    items.forEach(function (item) {
      item.element.className = "upload-item " + item.state;
      item.parts.status.textContent = statusText(item);
      item.parts.bar.max = item.total || 1;
      item.parts.bar.value = item.state === "done" ? (item.total || 1) : item.loaded;
      item.parts.cancel.hidden = !(item.state === "queued" || item.state === "uploading" || item.state === "conflict" || item.state === "paused");
      item.parts.pause.hidden = !(item.state === "uploading" && item.tus);
      item.parts.resume.hidden = item.state !== "paused";
      item.parts.retry.hidden = !(item.state === "error" || item.state === "cancelled");
      if (!counted(item)) { return; }
      counting++;
      total += item.total;
      loaded += item.state === "done" ? item.total : item.loaded;
      if (item.state === "done") { done++; }
      if (item.state === "error") { failed++; }
    });
    sample(samples, loaded);
    var speed = speedOf(samples);
    var waiting = items.some(function (item) { return item.state === "conflict"; });
    var busy = active > 0 || queue.length > 0 || waiting;
    totalBar.max = total || 1;
    totalBar.value = busy ? loaded : total || 1;
    var parts = [done + " of " + FF.plural(counting, "file") + " uploaded", FF.formatSize(loaded) + " of " + FF.formatSize(total)];
    if (active > 0 && speed > 0) {
      parts.push(FF.formatSize(speed) + "/s");
      var left = FF.formatDuration((total - loaded) / speed);
      if (left) { parts.push("about " + left + " left"); }
    }
    if (failed) { parts.push(FF.plural(failed, "failed", "failed")); }
    totalText.textContent = parts.join(" · ");
    panelTitle.textContent = waiting && !active ? "Waiting for your choice" : busy ? "Uploading " + FF.plural(counting - done - failed, "file") : failed ? "Uploads finished with problems" : "Uploads complete";
    cancelAll.hidden = !busy;
    retryAll.hidden = !items.some(function (item) { return item.state === "error"; });
  }
  U.busy = function () { return active > 0 || queue.length > 0; };

  cancelAll.addEventListener("click", function () {
    queue.slice().forEach(cancel);
    // Groups are stopped with all their files marked first, so that none goes up again alone.
    var groups = [];
    items.forEach(function (item) {
      if (item.state !== "uploading" || !item.group) { return; }
      item.state = "cancelled";
      if (groups.indexOf(item.group) === -1) { groups.push(item.group); }
    });
    groups.forEach(stopGroup);
    items.forEach(function (item) { if (item.state === "uploading" || item.state === "conflict") { cancel(item); } });
    render();
  });
  retryAll.addEventListener("click", function () {
    items.forEach(function (item) { if (item.state === "error") { retry(item); } });
  });
  document.getElementById("upload-panel-close").addEventListener("click", function () {
    var close = function () {
      panel.hidden = true;
      items.forEach(function (item) { item.element.remove(); });
      items = items.filter(function (item) { return item.state === "uploading" || item.state === "queued"; });
    };
    if (!U.busy()) { close(); return; }
    FF.confirm("Stop the uploads that have not finished yet?", "Stop uploads").then(function (ok) {
      if (ok) { cancelAll.click(); close(); }
    });
  });
  var toggle = document.getElementById("upload-panel-toggle");
  toggle.addEventListener("click", function () {
    var collapsed = panel.classList.toggle("collapsed");
    toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
    toggle.setAttribute("aria-label", collapsed ? "Show the list of files" : "Hide the list of files");
    FF.setIcon(toggle.querySelector("svg"), collapsed ? "up" : "down");
  });
  window.addEventListener("beforeunload", function (event) {
    if (U.busy()) { event.preventDefault(); event.returnValue = ""; }
  });

  // --- the Upload button and its two pickers ----------------------------------------------
  var filesInput = document.getElementById("upload-input");
  var folderInput = document.getElementById("upload-folder-input");
  var popover = document.getElementById("upload-popover");
  U.pickFiles = function () { filesInput.click(); };
  U.pickFolder = function () { folderInput.click(); };
  document.getElementById("upload-files-button").addEventListener("click", function () { popover.open = false; U.pickFiles(); });
  document.getElementById("upload-folder-button").addEventListener("click", function () { popover.open = false; U.pickFolder(); });
  filesInput.addEventListener("change", function () {
    U.enqueue(Array.prototype.map.call(filesInput.files, function (file) { return { file: file, relativePath: file.name }; }));
    filesInput.value = "";
  });
  folderInput.addEventListener("change", function () {
    U.enqueue(Array.prototype.map.call(folderInput.files, function (file) {
      return { file: file, relativePath: file.webkitRelativePath || file.name };
    }));
    folderInput.value = "";
  });
  document.getElementById("upload-form").addEventListener("submit", function (event) {
    event.preventDefault();
    filesInput.dispatchEvent(new Event("change"));
  });

  // --- drag and drop --------------------------------------------------------------------------
  var zone = document.getElementById("drive-main");
  var overlay = document.getElementById("drop-overlay");
  var depth = 0;
  function carriesFiles(event) {
    var types = event.dataTransfer && event.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, "Files") !== -1;
  }
  zone.addEventListener("dragenter", function (event) {
    if (!carriesFiles(event)) { return; }
    event.preventDefault();
    depth++;
    overlay.hidden = false;
  });
  zone.addEventListener("dragover", function (event) {
    if (!carriesFiles(event)) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("dragleave", function (event) {
    if (!carriesFiles(event)) { return; }
    depth = Math.max(0, depth - 1);
    if (!depth) { overlay.hidden = true; }
  });
  zone.addEventListener("drop", function (event) {
    if (!carriesFiles(event)) { return; }
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    collect(event.dataTransfer).then(function (found) {
      if (found.unreadable.length) {
        FF.toast("Some items could not be read from your disk and were left out: " + found.unreadable.join(", "), { error: true });
      }
      U.enqueue(found.files, found.emptyFolders);
    });
  });
  // Dropping outside the drop area must not make the browser open the file instead.
  window.addEventListener("dragover", function (event) { if (carriesFiles(event)) { event.preventDefault(); } });
  window.addEventListener("drop", function (event) { if (carriesFiles(event)) { event.preventDefault(); } });
})();
