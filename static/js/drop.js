// Drop folder page: send each chosen file as its own streamed PUT (the file is read from
// disk by the browser, never held in memory), with a progress bar per file. Without this
// script the form posts the files as a plain multipart upload.
(function () {
  "use strict";
  var form = document.getElementById("drop-form");
  if (!form || !window.XMLHttpRequest) return;
  var input = document.getElementById("drop-files");
  var uploader = document.getElementById("drop-uploader");
  var list = document.getElementById("drop-list");
  var submit = document.getElementById("drop-submit");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function row(file) {
    var item = document.createElement("li");
    item.className = "upload-item";
    var name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name + " (" + FF.formatSize(file.size) + ")";
    var bar = document.createElement("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    bar.setAttribute("aria-label", "Progress of " + file.name);
    var status = document.createElement("span");
    status.className = "upload-status";
    status.textContent = "Waiting";
    item.append(name, bar, status);
    list.appendChild(item);
    return { item: item, bar: bar, status: status };
  }

  // Big files go up resumably (tus.js): retried when the connection drops, continued after
  // a reload when the same file is chosen again.
  var threshold = form.dataset.tusThreshold ? parseInt(form.dataset.tusThreshold, 10) : null;
  function sendResumably(file, view) {
    return new Promise(function (resolve) {
      view.status.textContent = "Sending";
      window.FF.tusUpload({
        file: file,
        name: file.name,
        endpoint: form.dataset.tusUrl,
        csrfToken: csrf,
        metadata: { uploader: uploader.value },
        onProgress: function (loaded, total) {
          view.bar.max = total || 1;
          view.bar.value = loaded;
          view.status.textContent = Math.floor((100 * loaded) / (total || 1)) + " %";
        },
        onWait: function (seconds) {
          view.status.textContent = "Connection lost: trying again in " + seconds + " s";
        },
        onSuccess: function () {
          view.bar.value = view.bar.max;
          view.status.textContent = "Sent";
          view.item.classList.add("done");
          resolve(true);
        },
        onError: function (status, body) {
          view.status.textContent = (body && body.detail) || "Not sent (error " + status + ")";
          view.item.classList.add("failed");
          view.status.setAttribute("role", "alert");
          resolve(false);
        }
      });
    });
  }

  function send(file, view) {
    if (threshold !== null && window.FF && window.FF.tusUpload && file.size >= threshold && file.size > 0) {
      return sendResumably(file, view);
    }
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      var query = "?name=" + encodeURIComponent(file.name) + "&uploader=" + encodeURIComponent(uploader.value);
      xhr.open("PUT", form.dataset.uploadUrl + query);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          view.bar.max = event.total;
          view.bar.value = event.loaded;
          view.status.textContent = Math.floor((100 * event.loaded) / event.total) + " %";
        }
      };
      xhr.onload = function () {
        if (xhr.status === 201) {
          view.bar.value = view.bar.max;
          view.status.textContent = "Sent";
          view.item.classList.add("done");
          resolve(true);
          return;
        }
        var message = "Not sent (error " + xhr.status + ")";
        try { message = JSON.parse(xhr.responseText).detail || message; } catch (e) { /* not JSON */ }
        view.status.textContent = message;
        view.item.classList.add("failed");
        view.status.setAttribute("role", "alert");
        resolve(false);
      };
      xhr.onerror = function () {
        view.status.textContent = "Not sent: the connection was lost. Try again.";
        view.item.classList.add("failed");
        resolve(false);
      };
      view.status.textContent = "Sending";
      xhr.send(file);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var files = Array.prototype.slice.call(input.files || []);
    if (!files.length) {
      input.focus();
      return;
    }
    submit.disabled = true;
    var views = files.map(row);
    var sent = 0;
    files.reduce(function (chain, file, index) {
      return chain.then(function () {
        return send(file, views[index]).then(function (ok) { if (ok) sent++; });
      });
    }, Promise.resolve()).then(function () {
      submit.disabled = false;
      input.value = "";
      var summary = document.createElement("li");
      summary.className = "upload-summary";
      summary.setAttribute("role", "status");
      summary.textContent = sent === files.length
        ? "Thank you: " + FF.plural(sent, "file") + " received."
        : sent + " of " + files.length + " files received.";
      list.appendChild(summary);
    });
  });
})();
