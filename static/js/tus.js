// FileFlow: resumable uploads (tus 1.0) from the page, for files at or above
// FF.config.tusThreshold. One upload is created with POST FF.config.urls.uploads, then the
// file goes up in PATCH requests of CHUNK bytes, each a slice of the File (streamed from
// disk by the browser, never read into memory). When the network drops or the server does
// not answer, the offset is asked for again (HEAD) and the upload continues from there,
// after waiting 1, 2, 4 … up to 30 seconds. The upload URL is kept in localStorage under a
// fingerprint of the file (name, size, date, where it goes), so after a reload or a browser
// restart, choosing the same file again continues where it stopped.
(function () {
  "use strict";
  var FF = (window.FF = window.FF || {});
  var VERSION = "1.0.0";
  var CHUNK = 8 * 1024 * 1024;
  var BACKOFF = [1, 2, 4, 8, 15, 30];
  var PREFIX = "fileflow-tus:";

  function encode(text) {
    // base64 of UTF-8, as Upload-Metadata wants.
    var bytes = new TextEncoder().encode(text);
    var binary = "";
    bytes.forEach(function (byte) { binary += String.fromCharCode(byte); });
    return btoa(binary);
  }
  function metadata(values) {
    return Object.keys(values).filter(function (key) { return values[key] !== undefined && values[key] !== ""; })
      .map(function (key) { return key + " " + encode(String(values[key])); }).join(",");
  }
  function fingerprint(file, target) {
    return PREFIX + [target, file.name, file.size, file.lastModified].join("|");
  }
  function remembered(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function remember(key, url) {
    try { window.localStorage.setItem(key, JSON.stringify({ url: url, at: Date.now() })); } catch (e) { /* private mode: no resuming after reload */ }
  }
  function forget(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* nothing to forget */ }
  }

  // options: file, folderPath or parent (a folder id), name, onConflict,
  // endpoint (default FF.config.urls.uploads),
  // metadata (more Upload-Metadata), csrfToken (default FF.csrfToken()),
  // onProgress(loaded, total), onSuccess(nodeId), onError(status, body), onWait(seconds).
  // Returns { pause(), resume(), abort() }; abort() also ends the upload on the server.
  FF.tusUpload = function (options) {
    var file = options.file;
    var endpoint = options.endpoint || FF.config.urls.uploads;
    var csrfToken = options.csrfToken || (FF.csrfToken ? FF.csrfToken() : "");
    var where = options.parent !== undefined ? "#" + options.parent : options.folderPath || "";
    var key = fingerprint(file, endpoint + where + "/" + options.name);
    var url = null;
    var offset = 0;
    var xhr = null;
    var timer = null;
    var failures = 0;
    var stopped = false;
    var creating = false; // the POST that makes the upload is under way
    var cancelled = false;

    function request(method, target, headers, body, onload) {
      xhr = new XMLHttpRequest();
      var mine = xhr;
      xhr.open(method, target);
      xhr.setRequestHeader("Tus-Resumable", VERSION);
      xhr.setRequestHeader("X-CSRFToken", csrfToken);
      xhr.setRequestHeader("Accept", "application/json");
      Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
      xhr.addEventListener("load", function () { if (xhr === mine) { xhr = null; onload(mine); } });
      xhr.addEventListener("error", function () { if (xhr === mine) { xhr = null; creating = false; later(); } });
      xhr.addEventListener("timeout", function () { if (xhr === mine) { xhr = null; creating = false; later(); } });
      if (body && method === "PATCH") {
        var base = offset;
        xhr.upload.addEventListener("progress", function (event) {
          if (xhr === mine) { options.onProgress(base + event.loaded, file.size); }
        });
      }
      xhr.send(body || null);
    }
    function parse(answer) {
      try { return JSON.parse(answer.responseText); } catch (e) { return null; }
    }
    // Lost the connection or the server: wait, then ask where the upload stands.
    function later() {
      if (stopped) { return; }
      var seconds = BACKOFF[Math.min(failures, BACKOFF.length - 1)];
      failures++;
      if (options.onWait) { options.onWait(seconds); }
      timer = window.setTimeout(function () { timer = null; if (!stopped) { locate(); } }, seconds * 1000);
    }
    function fail(answer) {
      stopped = true;
      options.onError(answer.status, parse(answer));
    }
    function transient(status) { return status === 0 || status === 409 || status === 423 || status >= 500; }

    // A pause or a cancel while the POST is under way does not abort it (the server may have
    // made the upload, and its reservation, already): its answer is awaited, and the upload
    // it made is ended (cancel) or kept for the resume (pause).
    function create() {
      creating = true;
      request("POST", endpoint, {
        "Upload-Length": String(file.size),
        "Upload-Metadata": metadata(Object.assign({ filename: options.name, path: options.folderPath, parent: options.parent, on_conflict: options.onConflict }, options.metadata || {}))
      }, null, function (answer) {
        creating = false;
        if (answer.status === 201) {
          url = answer.getResponseHeader("Location");
          offset = 0;
          failures = 0;
          if (cancelled) { end(); return; }
          remember(key, url);
          if (answer.getResponseHeader("FileFlow-Node-Id")) { done(answer); return; }
          send();
        } else if (stopped) {
          return;
        } else if (answer.status >= 500) {
          later();
        } else {
          fail(answer);
        }
      });
    }
    // Where the upload stands (after a drop, a pause or a reload): HEAD, then continue.
    function locate() {
      if (!url) { create(); return; }
      request("HEAD", url, {}, null, function (answer) {
        if (answer.status === 200) {
          // Every byte had arrived but the file was not stored yet (the server died while
          // storing it, or it answered 503): this HEAD stored it.
          if (answer.getResponseHeader("FileFlow-Node-Id")) { done(answer); return; }
          offset = parseInt(answer.getResponseHeader("Upload-Offset"), 10) || 0;
          options.onProgress(offset, file.size);
          send();
        } else if (answer.status === 404 || answer.status === 410) {
          // Finished, expired or terminated meanwhile: start afresh.
          forget(key);
          url = null;
          create();
        } else if (transient(answer.status)) {
          later();
        } else {
          fail(answer);
        }
      });
    }
    function send() {
      if (stopped) { return; }
      var end = Math.min(offset + CHUNK, file.size);
      request("PATCH", url, {
        "Upload-Offset": String(offset),
        "Content-Type": "application/offset+octet-stream"
      }, file.slice(offset, end), function (answer) {
        if (answer.status === 204) {
          failures = 0;
          offset = parseInt(answer.getResponseHeader("Upload-Offset"), 10);
          options.onProgress(offset, file.size);
          if (offset >= file.size) { done(answer); } else { send(); }
        } else if (transient(answer.status) || answer.status === 460) {
          later();
        } else if (answer.status === 404 || answer.status === 410) {
          forget(key);
          url = null;
          later();
        } else {
          forget(key);
          fail(answer);
        }
      });
    }
    function done(answer) {
      stopped = true;
      forget(key);
      options.onSuccess(answer.getResponseHeader("FileFlow-Node-Id"));
    }
    function halt() {
      stopped = true;
      if (timer) { window.clearTimeout(timer); timer = null; }
      if (xhr && !creating) { var current = xhr; xhr = null; current.abort(); }
    }
    // Termination: the upload and the space it holds go on the server.
    function end() {
      var ending = new XMLHttpRequest();
      ending.open("DELETE", url);
      ending.setRequestHeader("Tus-Resumable", VERSION);
      ending.setRequestHeader("X-CSRFToken", csrfToken);
      ending.send();
    }

    var known = remembered(key);
    if (known && known.url) { url = known.url; }
    locate();
    return {
      pause: halt,
      resume: function () {
        if (!stopped || cancelled) { return; }
        stopped = false;
        failures = 0;
        if (!creating) { locate(); } // else the creation's answer goes on by itself
      },
      abort: function () {
        cancelled = true;
        halt();
        forget(key);
        if (url && !creating) { end(); }
      },
      resumed: !!(known && known.url)
    };
  };
})();
