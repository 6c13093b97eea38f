// FileFlow: the search box in the top bar. Without this script it is a plain form that
// opens the results page; with it, matches appear as you type (from the search API,
// a quarter of a second after the last key), ↓/↑ choose one, Enter opens it (a folder's
// page; a file in the viewer, as a click in a listing does — on pages without the viewer,
// its details page), Esc closes the list, and Enter with nothing chosen still
// opens the full results page. "/" anywhere else puts the cursor in the box.
// It stands alone: pages without the drive's scripts (the account pages) have the box too.
(function () {
  "use strict";
  var DELAY = 250;
  var LIMIT = 8;
  var ICONS = { folder: "folder", image: "image", video: "video", audio: "audio", pdf: "pdf", document: "document", spreadsheet: "spreadsheet", presentation: "presentation", archive: "archive", code: "code" };

  function start() {
    var form = document.getElementById("topsearch");
    if (!form || !window.fetch) { return; }
    var input = document.getElementById("topsearch-input");
    var list = document.createElement("ul");
    list.id = "topsearch-list";
    list.className = "topsearch-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Matching files and folders");
    list.hidden = true;
    form.appendChild(list);
    var status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    form.appendChild(status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");

    var timer = null;
    var controller = null;
    var asked = 0;
    var shownFor = null;
    var options = [];
    var active = -1;

    function pageUrl(pattern, id) { return pattern.replace("/0/", "/" + encodeURIComponent(id) + "/"); }
    function resultsUrl(q) { return form.getAttribute("action") + "?q=" + encodeURIComponent(q); }
    function hitUrl(hit) {
      // A file opens on its details page: preview, download, versions and its folder.
      return pageUrl(hit.is_folder ? form.dataset.folderUrl : form.dataset.nodeUrl, hit.id);
    }
    function el(tag, className, text) {
      var element = document.createElement(tag);
      if (className) { element.className = className; }
      if (text !== undefined) { element.textContent = text; }
      return element;
    }
    function icon(category) {
      var name = ICONS[category] || "file";
      var thumb = el("span", "thumb small kind-" + (category === "other" ? "file" : name));
      thumb.setAttribute("aria-hidden", "true");
      // The icon set is part of the drive pages only; elsewhere the coloured tile is enough.
      if (document.getElementById("i-" + name)) {
        var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
        svg.setAttribute("class", "icon");
        var use = document.createElementNS("http://www.w3.org/2000/svg", "use");
        use.setAttribute("href", "#i-" + name);
        svg.appendChild(use);
        thumb.appendChild(svg);
      }
      return thumb;
    }

    function isOpen() { return !list.hidden; }
    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      setActive(-1);
    }
    function open() {
      if (!options.length && !list.firstChild) { return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    function setActive(index) {
      active = index;
      options.forEach(function (option, i) {
        option.element.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].element.id);
        options[index].element.scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function go(href) {
      close();
      window.location.href = href;
    }
    // A file opens in the drive pages' viewer, stepping through the files suggested.
    function choose(option) {
      var viewer = window.FF && window.FF.preview;
      if (!option.hit || option.hit.is_folder || !viewer || !viewer.openNodes) { go(option.href); return; }
      var files = options.filter(function (o) { return o.hit && !o.hit.is_folder; }).map(function (o) { return o.hit; });
      close();
      input.blur();
      viewer.openNodes(files, files.indexOf(option.hit));
    }

    function addOption(element, href, hit) {
      element.id = "topsearch-option-" + options.length;
      element.setAttribute("role", "option");
      element.setAttribute("aria-selected", "false");
      element.dataset.href = href;
      options.push({ element: element, href: href, hit: hit || null });
      list.appendChild(element);
    }
    function render(q, data, problem) {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      options = [];
      active = -1;
      shownFor = q;
      var count = 0;
      if (problem) {
        var note = el("li", "topsearch-note error", problem);
        note.setAttribute("role", "presentation");
        list.appendChild(note);
        status.textContent = problem;
      } else {
        data.results.forEach(function (hit) {
          var item = el("li", "topsearch-item");
          item.appendChild(icon(hit.category));
          var text = el("span", "topsearch-text");
          text.appendChild(el("span", "topsearch-name", hit.name));
          // Own items: from the home folder ("/Docs/a.pdf"); shared ones as the person
          // sees them ("Shared with me/Q3/a.pdf"), never the owner's folders.
          var folder = hit.path.slice(0, hit.path.lastIndexOf("/"));
          text.appendChild(el("span", "topsearch-path", hit.shared ? "in " + folder : "in Your files" + folder));
          if (hit.snippet) {
            // Escaped by the server; only the <mark> around the matching words is markup.
            var snippet = el("span", "topsearch-snippet");
            snippet.appendChild(el("span", "found-in", hit.found_in === "text" ? "in the text: " : "also in the text: "));
            var words = el("span");
            words.innerHTML = hit.snippet;
            snippet.appendChild(words);
            text.appendChild(snippet);
          }
          item.appendChild(text);
          addOption(item, hitUrl(hit), hit);
        });
        if (!data.results.length) {
          var none = el("li", "topsearch-note", "No names or documents contain “" + q + "”.");
          none.setAttribute("role", "presentation");
          list.appendChild(none);
        }
        count = data.count === null || data.count === undefined ? data.results.length : data.count;
        status.textContent = count ? FF.plural(count, "match", "matches") : "No matches";
      }
      var all = el("li", "topsearch-all", count > LIMIT ? "See all " + count + " results" : "Search with filters…");
      addOption(all, resultsUrl(q));
      open();
    }

    function lookUp(q) {
      if (controller) { controller.abort(); }
      controller = new AbortController();
      var mine = ++asked;
      var url = form.dataset.api + "?q=" + encodeURIComponent(q) + "&limit=" + LIMIT;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal: controller.signal })
        .then(function (response) {
          return response.json().catch(function () { return null; }).then(function (body) {
            if (mine !== asked || input.value.trim() !== q) { return; }
            if (response.ok && body) { render(q, body); return; }
            var detail = body && typeof body.detail === "string" ? body.detail : "";
            if (response.status === 401 || response.status === 403) {
              detail = "You have been logged out. Reload the page and log in again.";
            }
            render(q, null, detail || "Search is not available right now (error " + response.status + ").");
          });
        }, function (error) {
          if (error.name === "AbortError" || mine !== asked) { return; }
          render(q, null, "The server could not be reached. Check your connection.");
        });
    }
    function schedule() {
      window.clearTimeout(timer);
      var q = input.value.trim();
      if (!q) {
        if (controller) { controller.abort(); }
        asked++;
        shownFor = null;
        close();
        return;
      }
      timer = window.setTimeout(function () { lookUp(q); }, DELAY);
    }

    input.addEventListener("input", schedule);
    input.addEventListener("focus", function () {
      if (shownFor !== null && shownFor === input.value.trim()) { open(); }
    });
    input.addEventListener("keydown", function (event) {
      var key = event.key;
      if (key === "ArrowDown" || key === "ArrowUp") {
        event.preventDefault();
        if (!isOpen()) {
          if (shownFor === input.value.trim() && shownFor) { open(); } else { window.clearTimeout(timer); if (input.value.trim()) { lookUp(input.value.trim()); } }
          return;
        }
        if (!options.length) { return; }
        var next = key === "ArrowDown" ? active + 1 : active - 1;
        if (next >= options.length) { next = 0; }
        if (next < -1) { next = options.length - 1; }
        setActive(next);
      } else if (key === "Enter") {
        if (isOpen() && active >= 0 && options[active]) {
          event.preventDefault();
          choose(options[active]);
        } else {
          // The form goes to the full results page, as it does without this script.
          window.clearTimeout(timer);
          close();
        }
      } else if (key === "Escape") {
        if (isOpen()) {
          event.preventDefault();
          close();
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
          schedule();
        } else {
          input.blur();
        }
      } else if (key === "Tab") {
        close();
      }
    });
    // A press on a suggestion must not blur the box first (that would close the list).
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    list.addEventListener("click", function (event) {
      var item = event.target.closest("[role=option]");
      var option = options.filter(function (o) { return o.element === item; })[0];
      if (option) { choose(option); }
    });
    list.addEventListener("mousemove", function (event) {
      var item = event.target.closest("[role=option]");
      if (!item) { return; }
      var index = options.map(function (o) { return o.element; }).indexOf(item);
      if (index !== active) { setActive(index); }
    });
    input.addEventListener("blur", function () { close(); });
    document.addEventListener("click", function (event) {
      if (!form.contains(event.target)) { close(); }
    });

    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) { return; }
      var target = event.target;
      var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
      if (typing || document.querySelector("dialog[open]")) { return; }
      event.preventDefault();
      input.focus();
      input.select();
    });
  }

  // The details panel of the drive pages: can the selected file be found by its words?
  function startDetails() {
    var section = document.getElementById("details-text-section");
    var FF = window.FF;
    if (!section || !FF || !FF.details || !FF.listing) { return; }
    var line = document.getElementById("details-text-state");
    var L = FF.listing;
    var shownFor = null;
    FF.details.onRefresh(function () {
      var rows = L.selectedRows();
      var node = rows.length === 1 ? L.nodeOf(rows[0]) : null;
      if (!node || node.is_folder) { section.hidden = true; shownFor = null; return; }
      var id = String(node.id);
      if (shownFor !== id) { line.textContent = "…"; }
      shownFor = id;
      FF.api("GET", section.dataset.api.replace("/0/", "/" + encodeURIComponent(id) + "/")).then(function (info) {
        if (shownFor !== id) { return; }
        section.hidden = info.state === "none";
        line.textContent = info.summary + (info.reason ? " " + info.reason : "");
        section.dataset.state = info.state;
      }, function () {
        if (shownFor === id) { section.hidden = true; }
      });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
  // The drive's scripts (FF.details) run after this one: DOMContentLoaded comes after them all.
  if (document.readyState !== "complete") { document.addEventListener("DOMContentLoaded", startDetails); } else { startDetails(); }
})();
