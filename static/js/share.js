// FileFlow: share links from the drive pages. The share dialog (create a link, copy it, and
// copy, edit or revoke the item's other links, all through the REST API), opened from the
// context menu, the selection bar, the details panel and the item page; plus the "Copy link"
// buttons and the revoke confirmations of the "Shared by me" pages. The operator's policy
// (default and longest expiry, passwords) comes from #ff-share-config.
(function () {
  "use strict";
  var FF = window.FF;
  var configElement = document.getElementById("ff-share-config");
  var config = (configElement && JSON.parse(configElement.textContent)) || {};
  var policy = config.policy || {};
  var urls = config.urls || {};
  var DAY = 24 * 60 * 60 * 1000;

  var PERMISSIONS = { view: "View only", download: "View and download", upload: "Upload only (drop folder)" };
  var STATES = { active: "Active", expired: "Expired", revoked: "Revoked", used_up: "Used up" };
  // Which of the dialog's fields a server error names.
  var FIELDS = { permission: "permission", expires_at: "expires", expires_in_days: "expires", max_access_count: "limit", password: "password", label: "label" };

  function clear(element) { while (element.firstChild) { element.removeChild(element.firstChild); } }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // A moment as <input type="datetime-local"> shows it, in the browser's time zone.
  function toLocalInput(value) {
    var date = value instanceof Date ? value : new Date(value);
    if (isNaN(date.getTime())) { return ""; }
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      "T" + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }
  function detailUrl(id) { return (urls.detail || "").replace("/0/", "/" + encodeURIComponent(id) + "/"); }
  function pageFor(node) { return (urls.page || "") + FF.query({ node: node.id }); }

  // --- talking to the API (the raw body, so errors can be put next to their field) ------
  function messageOf(data, status) {
    if (data && typeof data === "object" && typeof data.detail !== "string") {
      var key = Object.keys(data).filter(function (k) { return FIELDS[k]; })[0];
      if (key) {
        var value = data[key];
        var text = Array.isArray(value) ? value[0] : value;
        if (typeof text === "string") { return text; }
      }
    }
    return FF.errorText(data, status);
  }
  function fieldOf(data) {
    if (!data || typeof data !== "object") { return ""; }
    if (typeof data.field === "string") { return data.field; }
    return Object.keys(data).filter(function (k) { return FIELDS[k]; })[0] || "";
  }
  function call(method, url, body) {
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") { options.headers["X-CSRFToken"] = FF.csrfToken(); }
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!response.ok) {
          throw new FF.ApiError(response.status, messageOf(data, response.status), data && data.code, fieldOf(data));
        }
        return data;
      });
    }, function () { throw new FF.ApiError(0, FF.errorText(null, 0)); });
  }
  function apiLink(id, suffix) { return urls.api + encodeURIComponent(id) + "/" + (suffix || ""); }

  // --- copying ------------------------------------------------------------------------
  // The clipboard API where the browser allows it; else select the text and ask the
  // browser to copy the selection. Resolves with true when the text is on the clipboard.
  function copyText(text, input) {
    function bySelection() {
      var field = input;
      var temporary = null;
      if (!field) {
        temporary = field = FF.el("textarea", { className: "copy-buffer", readonly: true, "aria-hidden": "true", tabindex: "-1" });
        field.value = text;
        (document.querySelector("dialog[open]") || document.body).appendChild(field);
      }
      field.focus();
      field.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      if (temporary) { temporary.remove(); }
      return ok;
    }
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, bySelection);
    }
    return Promise.resolve(bySelection());
  }

  // --- the dialog ---------------------------------------------------------------------
  var dialog = document.getElementById("share-dialog");
  var S = (window.FileFlowShare = {});
  S.copy = copyText;
  S.open = function (node) {
    if (!dialog) { window.location.href = pageFor(node); return; }
    openDialog(node);
  };

  if (dialog) {
    var $ = function (id) { return document.getElementById(id); };
    var title = $("share-title");
    var status = $("share-status");
    var result = $("share-result");
    var resultUrl = $("share-result-url");
    var resultNote = $("share-result-note");
    var form = $("share-form");
    var formTitle = $("share-form-title");
    var generalError = $("share-error");
    var permission = $("share-permission");
    var permissionHelp = $("share-permission-help");
    var uploadOption = permission.querySelector('option[value="upload"]');
    var expires = $("share-expires");
    var expiresHelp = $("share-expires-help");
    var neverWrap = $("share-never-wrap");
    var never = $("share-never");
    var limit = $("share-limit");
    var password = $("share-password");
    var passwordLabel = $("share-password-label");
    var passwordHelp = $("share-password-help");
    var removeWrap = $("share-remove-password-wrap");
    var removePassword = $("share-remove-password");
    var label = $("share-label");
    var submit = $("share-submit");
    var submitLabel = $("share-submit-label");
    var cancelEdit = $("share-cancel-edit");
    var list = $("share-links");
    var listError = $("share-links-error");
    var allLink = $("share-all-link");
    var quick = $("share-quick");
    var quickCreate = $("share-quick-create");
    var quickHelp = $("share-quick-help");
    var settings = $("share-settings");
    var resultFacts = $("share-result-facts");
    var inputs = { permission: permission, expires: expires, limit: limit, password: password, label: label };
    var current = null;   // the item being shared: {id, name, is_folder}
    var editing = null;   // the link being edited (from the API), or null when creating
    var expiresInitial = null;
    var generation = 0;

    var setStatus = function (text) { status.textContent = text || ""; };
    var clearErrors = function () {
      generalError.hidden = true;
      clear(generalError);
      Object.keys(inputs).forEach(function (name) {
        var error = $("share-" + name + "-error");
        error.hidden = true;
        error.textContent = "";
        inputs[name].removeAttribute("aria-invalid");
        inputs[name].closest(".field").classList.remove("has-error");
      });
    };
    var showError = function (name, message) {
      var input = inputs[name];
      if (!input) {
        clear(generalError);
        generalError.appendChild(FF.el("p", { text: message }));
        generalError.hidden = false;
        return;
      }
      var error = $("share-" + name + "-error");
      error.textContent = message;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.closest(".field").classList.add("has-error");
      input.focus();
    };

    var describePermission = function () {
      var folder = current && current.is_folder;
      var texts = {
        view: folder ? "Visitors can browse the folder and look at its files, but not download them." : "Visitors can look at the file, but not download it.",
        download: folder ? "Visitors can browse the folder and download its files, one by one or as a ZIP." : "Visitors can look at the file and download it.",
        upload: "Visitors can add files to this folder, without seeing what is in it. Good for collecting documents."
      };
      permissionHelp.textContent = texts[permission.value] || "";
    };
    permission.addEventListener("change", describePermission);

    var describeExpiry = function () {
      var now = new Date();
      var text = "New links expire after " + FF.plural(policy.defaultDays || 7, "day") + " unless you pick a date.";
      expires.min = toLocalInput(now);
      if (policy.maxDays) {
        var latest = new Date(now.getTime() + policy.maxDays * DAY);
        expires.max = toLocalInput(latest);
        text += " On this server a link can last at most " + FF.plural(policy.maxDays, "day") + " (until " + FF.formatDate(latest) + ").";
      } else {
        expires.removeAttribute("max");
      }
      expiresHelp.textContent = text;
    };
    var defaultExpiry = function () {
      var days = policy.defaultDays || 7;
      if (policy.maxDays) { days = Math.min(days, policy.maxDays); }
      return new Date(Date.now() + days * DAY);
    };
    never.addEventListener("change", function () { expires.disabled = never.checked; });
    removePassword.addEventListener("change", function () {
      password.disabled = removePassword.checked;
      if (removePassword.checked) { password.value = ""; }
    });

    var fillPermissions = function () {
      if (current.is_folder) {
        if (!uploadOption.parentNode) { permission.appendChild(uploadOption); }
      } else if (uploadOption.parentNode) {
        uploadOption.remove();
      }
    };
    // One click makes a link with the server's defaults; the settings stay folded below.
    var describeDefaults = function () {
      var folder = current && current.is_folder;
      quickHelp.textContent = "Anyone with the link can " + (folder ? "browse and download this folder" : "view and download this file") +
        "; it expires after " + FF.plural(Math.min(policy.defaultDays || 7, policy.maxDays || Infinity), "day") + ". Change this in Link settings.";
    };
    var startCreate = function () {
      editing = null;
      form.reset();
      clearErrors();
      fillPermissions();
      formTitle.textContent = "Link settings";
      submitLabel.textContent = "Create link with these settings";
      cancelEdit.hidden = true;
      result.hidden = true;
      quick.hidden = !!policy.requirePassword;
      settings.open = !!policy.requirePassword;
      describeDefaults();
      permission.value = "download";
      describePermission();
      describeExpiry();
      expiresInitial = toLocalInput(defaultExpiry());
      expires.value = expiresInitial;
      expires.disabled = false;
      neverWrap.hidden = !policy.allowNever;
      never.checked = false;
      removeWrap.hidden = true;
      removePassword.checked = false;
      password.disabled = false;
      passwordLabel.textContent = policy.requirePassword ? "Password (required)" : "Password";
      password.required = !!policy.requirePassword;
      passwordHelp.textContent = policy.requirePassword
        ? "This server requires a password on every link. Visitors must type it first."
        : "Optional. Visitors must type it before they see anything.";
    };
    var fillEdit = function (link) {
      startCreate();
      editing = link;
      quick.hidden = true;
      settings.open = false;
      formTitle.textContent = "Settings of this link" + (link.label ? " “" + link.label + "”" : "");
      submitLabel.textContent = "Save changes";
      cancelEdit.hidden = false;
      permission.value = link.permission;
      describePermission();
      expiresInitial = link.expires_at ? toLocalInput(link.expires_at) : null;
      expires.value = expiresInitial || toLocalInput(defaultExpiry());
      never.checked = link.expires_at === null;
      neverWrap.hidden = !policy.allowNever && link.expires_at !== null;
      expires.disabled = never.checked;
      limit.value = link.max_access_count === null ? "" : String(link.max_access_count);
      label.value = link.label || "";
      passwordLabel.textContent = link.has_password ? "New password" : "Password";
      removeWrap.hidden = !link.has_password;
      passwordHelp.textContent = link.has_password ? "Leave empty to keep the current password." : "Optional. Visitors must type it before they see anything.";
    };
    var startEdit = function (link) {
      fillEdit(link);
      result.hidden = true;
      formTitle.textContent = "Edit link" + (link.label ? " “" + link.label + "”" : "");
      settings.open = true;
      form.scrollIntoView({ block: "nearest" });
      permission.focus();
    };
    cancelEdit.addEventListener("click", function () {
      startCreate();
      (quick.hidden ? permission : quickCreate).focus();
    });
    // After creating: the new link, its settings (folded) — not an empty form for another.
    var showCreated = function (saved) {
      fillEdit(saved);
      cancelEdit.hidden = true;
      result.hidden = false;
      resultUrl.value = saved.url;
      var facts = [PERMISSIONS[saved.permission] || saved.permission];
      if (saved.has_password) { facts.push("password"); }
      if (saved.max_access_count !== null) { facts.push("at most " + FF.plural(saved.max_access_count, "visit")); }
      facts.push(expiryText(saved));
      resultFacts.textContent = facts.join(" · ");
      resultNote.textContent = "Send it to whoever should have it. You can copy it again from the list below or from “Shared by me”.";
      resultUrl.select();
      $("share-copy").focus();
    };
    var create = function (body) {
      quickCreate.disabled = true;
      submit.disabled = true;
      return call("POST", urls.api, Object.assign({ node: current.id }, body)).then(function (saved) {
        quickCreate.disabled = false;
        submit.disabled = false;
        loadLinks();
        showCreated(saved);
      }, function (error) {
        quickCreate.disabled = false;
        submit.disabled = false;
        settings.open = true;
        showError(FIELDS[error.field] || "", error.message);
      });
    };
    quickCreate.addEventListener("click", function () {
      clearErrors();
      setStatus("");
      create({});
    });
    $("share-another").addEventListener("click", function () {
      startCreate();
      quickCreate.focus();
    });

    // What the form says, as the API takes it; null when something must be fixed first.
    var bodyOf = function () {
      var body = { permission: permission.value, label: label.value };
      if (!never.checked || neverWrap.hidden) {
        var value = expires.value;
        if (value && value !== expiresInitial) {
          var when = new Date(value);
          if (isNaN(when.getTime())) { showError("expires", "Pick a date and a time."); return null; }
          body.expires_at = when.toISOString();
        } else if (!value && editing && editing.expires_at === null) {
          showError("expires", "Pick when the link should expire.");
          return null;
        } else if (!value && expires.validity.badInput) {
          showError("expires", "Pick a complete date and time.");
          return null;
        }
      } else if (!editing || editing.expires_at !== null) {
        body.expires_at = null;
      }
      if (limit.validity.badInput) {
        showError("limit", "Type a whole number, or leave it empty for no limit.");
        return null;
      }
      body.max_access_count = limit.value === "" ? null : Number(limit.value);
      if (editing && removePassword.checked) { body.password = ""; }
      else if (password.value) { body.password = password.value; }
      return body;
    };
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors();
      setStatus("");
      var body = bodyOf();
      if (!body) { return; }
      var link = editing;
      if (!link) { create(body); return; }
      submit.disabled = true;
      call("PATCH", apiLink(link.id), body).then(function (saved) {
        submit.disabled = false;
        loadLinks();
        setStatus("Changes saved.");
        if (!result.hidden && resultUrl.value === saved.url) { showCreated(saved); settings.open = true; }
        else { fillEdit(saved); settings.open = true; }
        permission.focus();
      }, function (error) {
        submit.disabled = false;
        showError(FIELDS[error.field] || "", error.message);
      });
    });
    $("share-copy").addEventListener("click", function () {
      copyText(resultUrl.value, resultUrl).then(function (ok) {
        resultNote.textContent = ok ? "Link copied. Paste it into a message or an e-mail."
          : "Your browser did not let the page copy. The link is selected: press Ctrl+C (⌘C on a Mac).";
        if (!ok) { resultUrl.select(); }
      });
    });
    $("share-close").addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { editing = null; generation++; });

    // --- the item's links ---------------------------------------------------------------
    var accessText = function (link) {
      var text = FF.plural(link.access_count, "access", "accesses");
      return link.max_access_count === null ? text : text + " of " + link.max_access_count;
    };
    var expiryText = function (link) {
      if (!link.expires_at) { return "never expires"; }
      var past = new Date(link.expires_at).getTime() <= Date.now();
      return (past ? "expired " : "expires ") + FF.formatDate(link.expires_at);
    };
    var actionButton = function (text, icon, name, onclick, className) {
      return FF.el("button", { type: "button", className: "button small" + (className ? " " + className : ""), "aria-label": text + " " + name, onclick: onclick }, [FF.icon(icon), FF.el("span", { text: text })]);
    };
    var linkItem = function (link) {
      var name = link.label ? "“" + link.label + "”" : PERMISSIONS[link.permission] || link.permission;
      var which = "(" + (link.label || PERMISSIONS[link.permission]) + ", made " + FF.formatDate(link.created_at) + ")";
      var facts = [];
      if (link.label) { facts.push(PERMISSIONS[link.permission] || link.permission); }
      if (link.has_password) { facts.push("password"); }
      facts.push(accessText(link));
      facts.push(expiryText(link));
      var actions = FF.el("div", { className: "share-link-actions" });
      if (link.state === "active") {
        actions.appendChild(actionButton("Copy link", "copy", which, function () {
          copyText(link.url).then(function (ok) {
            setStatus(ok ? "Link copied." : "Your browser did not let the page copy the link. Open “Access log” to see it and copy it by hand.");
          });
        }));
      }
      if (!link.revoked_at) {
        actions.appendChild(actionButton("Edit", "rename", which, function () { startEdit(link); }));
        actions.appendChild(actionButton("Revoke", "close", which, function () { revoke(link); }, "danger"));
      }
      actions.appendChild(FF.el("a", { className: "button small", href: detailUrl(link.id), "aria-label": "Access log and details " + which }, [FF.icon("history"), FF.el("span", { text: "Access log" })]));
      return FF.el("li", { className: "share-link state-is-" + link.state, "data-link-id": link.id }, [
        FF.el("div", { className: "share-link-head" }, [
          FF.el("span", { className: "state-badge state-" + link.state, text: STATES[link.state] || link.state }),
          FF.el("strong", { className: "share-link-name", text: name })
        ]),
        FF.el("p", { className: "share-link-meta", text: facts.join(" · ") }),
        actions
      ]);
    };
    var loadLinks = function () {
      var mine = ++generation;
      listError.hidden = true;
      clear(list);
      list.appendChild(FF.el("li", { className: "muted", text: "Loading links…" }));
      return call("GET", urls.api + FF.query({ node: current.id, limit: 100 })).then(function (data) {
        if (mine !== generation) { return; }
        clear(list);
        data.results.forEach(function (link) { list.appendChild(linkItem(link)); });
        if (!data.results.length) { list.appendChild(FF.el("li", { className: "muted", text: "No links yet." })); }
        if (data.count > data.results.length) {
          list.appendChild(FF.el("li", { className: "muted" }, [FF.el("a", { href: pageFor(current), text: "See all " + data.count + " links" })]));
        }
      }, function (error) {
        if (mine !== generation) { return; }
        clear(list);
        listError.textContent = error.message;
        listError.hidden = false;
      });
    };
    var revoke = function (link) {
      FF.confirm("Revoke this link? It stops working at once for everyone who has it. Its access log stays.", "Revoke link").then(function (ok) {
        if (!ok) { return; }
        call("DELETE", apiLink(link.id)).then(function () {
          if (editing && editing.id === link.id) { startCreate(); }
          setStatus("Link revoked: it no longer opens.");
          loadLinks();
        }, function (error) {
          listError.textContent = error.message;
          listError.hidden = false;
        });
      });
    };

    var openDialog = function (node) {
      current = { id: Number(node.id), name: node.name, is_folder: !!node.is_folder };
      title.textContent = "Share “" + current.name + "”";
      allLink.setAttribute("href", pageFor(current));
      allLink.textContent = "All links to “" + current.name + "” (Shared by me)";
      setStatus("");
      startCreate();
      loadLinks();
      if (!dialog.open) { dialog.showModal(); }
      (quick.hidden ? permission : quickCreate).focus();
    };
  }

  // --- the details panel: share the selected item (or the folder being viewed) --------------
  var L = FF.listing;
  var detailsSection = document.getElementById("details-share-section");
  if (detailsSection && L) {
    var detailsLinks = document.getElementById("details-share-links");
    var detailsTarget = function () {
      var rows = L.selectedRows();
      if (rows.length === 1) { return L.nodeOf(rows[0]); }
      if (!rows.length && L.folder && L.folder.path !== "/") {
        return { id: L.folder.id, name: L.folder.name, is_folder: true };
      }
      return null;
    };
    var countFor = null;
    // How many of the item's links still work, asked for only while the panel is open.
    var showCount = function () {
      var target = detailsTarget();
      if (!target || !(FF.details && FF.details.isOpen())) { return; }
      var id = String(target.id);
      if (countFor !== id) { detailsLinks.textContent = "Links you made"; }
      countFor = id;
      call("GET", urls.api + FF.query({ node: id, state: "active", limit: 1 })).then(function (data) {
        if (countFor !== id) { return; }
        var n = data.count;
        detailsLinks.textContent = n === 0 ? "No active links" : FF.plural(n, "active link");
      }, function () {
        if (countFor === id) { detailsLinks.textContent = "Links you made"; }
      });
    };
    var syncDetails = function () {
      var target = detailsTarget();
      detailsSection.hidden = !target;
      if (target) { detailsLinks.setAttribute("href", pageFor(target)); }
    };
    L.onChange(syncDetails);
    syncDetails();
    if (FF.details) { FF.details.onRefresh(showCount); }
    if (dialog) { dialog.addEventListener("close", showCount); }
    document.getElementById("details-share").addEventListener("click", function () {
      var target = detailsTarget();
      if (target) { S.open(target); }
    });
  }

  // --- the item page, and the "Shared by me" pages ----------------------------------------
  document.addEventListener("click", function (event) {
    var shareLink = event.target.closest("[data-share-node]");
    if (shareLink && dialog) {
      event.preventDefault();
      S.open({ id: shareLink.dataset.shareNode, name: shareLink.dataset.shareName, is_folder: shareLink.dataset.shareFolder === "1" });
      return;
    }
    var copyButton = event.target.closest("[data-copy]");
    if (!copyButton) { return; }
    var row = copyButton.closest(".share-url-row");
    var input = row ? row.querySelector("input") : null;
    copyText(copyButton.dataset.copy, input).then(function (ok) {
      if (ok) { FF.toast("Link copied."); }
      else if (input) { FF.toast("The link is selected: press Ctrl+C (⌘C on a Mac) to copy it."); }
      else { window.prompt("Copy this link:", copyButton.dataset.copy); }
    });
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-share-confirm");
    if (!question || form.dataset.confirmed === "1") { return; }
    event.preventDefault();
    FF.confirm(question, "Revoke link").then(function (ok) {
      if (!ok) { return; }
      form.dataset.confirmed = "1";
      form.submit();
    });
  });
})();
