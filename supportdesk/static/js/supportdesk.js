// SupportDesk's progressive enhancements: keyboard triage, select-all, the reply/note choice.
// Every flow also works without this file.
(function () {
  "use strict";

  function typing(event) {
    var el = event.target;
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-sd-row]")); }

  var current = -1;
  function focusRow(index) {
    var all = rows();
    if (!all.length) { return; }
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row, i) { row.classList.toggle("sd-row-current", i === current); });
    var link = all[current].querySelector(".sd-row-link");
    if (link) { link.focus({ preventScroll: false }); }
  }

  function showShortcuts() {
    var modal = document.getElementById("sd-shortcuts");
    if (modal && window.bootstrap) { window.bootstrap.Modal.getOrCreateInstance(modal).show(); }
  }

  function chooseVisibility(kind) {
    var radio = document.getElementById("visibility-" + kind);
    var body = document.querySelector("[data-sd-reply]");
    if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    if (body) { body.focus(); }
  }

  function assignToMe() {
    var form = document.querySelector("[data-sd-assign-form]");
    if (form) { form.requestSubmit(); return; }
    var all = rows();
    var select = document.getElementById("bulk-change");
    var bulk = document.getElementById("bulk-form");
    if (current < 0 || !select || !bulk) { return; }
    var box = all[current].querySelector("input[name=tickets]");
    rows().forEach(function (row) {
      var other = row.querySelector("input[name=tickets]");
      if (other) { other.checked = false; }
    });
    if (box) { box.checked = true; }
    select.value = select.querySelector("optgroup option").value; // "Me" comes first
    bulk.requestSubmit();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) { return; }
    switch (event.key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current - 1); break;
      case "x": {
        var row = rows()[current];
        var box = row && row.querySelector("input[name=tickets]");
        if (box) { box.checked = !box.checked; }
        break;
      }
      case "Enter": {
        var target = rows()[current];
        if (target && document.activeElement === document.body) { window.location = target.dataset.sdHref; }
        return;
      }
      case "a": assignToMe(); break;
      case "r": chooseVisibility("public"); break;
      case "n": chooseVisibility("internal"); break;
      case "/": {
        var search = document.querySelector("[data-sd-search]");
        if (search) { search.focus(); search.select(); }
        break;
      }
      case "?": showShortcuts(); break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-sd-shortcuts-open]").forEach(function (button) {
      button.addEventListener("click", showShortcuts);
    });
    document.querySelectorAll("[data-sd-select-all]").forEach(function (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll("input[name=tickets]").forEach(function (box) { box.checked = all.checked; });
      });
    });
    // Make the reply button say exactly who will read the message.
    document.querySelectorAll("[data-sd-reply-form]").forEach(function (form) {
      var send = form.querySelector("[data-sd-send]");
      var hint = form.querySelector("[data-sd-visibility-hint]");
      function update() {
        var chosen = form.querySelector("input[name=visibility]:checked");
        form.classList.toggle("sd-composing-internal", !!chosen && chosen.value === "internal");
        if (!chosen) { send.textContent = "Send"; return; }
        send.textContent = chosen.value === "internal" ? "Add internal note" : "Send reply to requester";
        send.classList.toggle("sd-btn-send-internal", chosen.value === "internal");
        send.classList.toggle("btn-primary", chosen.value !== "internal");
        if (hint) { hint.textContent = chosen.value === "internal" ? "Only the desk will see this." : "The requester will see this."; }
      }
      form.addEventListener("change", update);
      update();
    });
    rows().forEach(function (row, index) {
      row.addEventListener("focusin", function () { current = index; });
      // The whole row opens the ticket; its checkbox and links keep their own job.
      row.addEventListener("click", function (event) {
        if (event.target.closest("a, input, button, label, select") || window.getSelection().toString()) { return; }
        window.location = row.dataset.sdHref;
      });
    });
    // Queue filters apply as soon as one changes (the Apply button stays for pages without script).
    document.querySelectorAll("[data-sd-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function (event) {
        if (event.target.matches("select")) { form.requestSubmit(); }
      });
    });
    document.querySelectorAll("[data-sd-draft-url]").forEach(keepDrafts);
    document.querySelectorAll("[data-sd-revise]").forEach(function (button) {
      button.addEventListener("click", function () {
        var box = document.querySelector("[data-sd-reply]");
        if (!box) { return; }
        box.focus();
        box.setSelectionRange(box.value.length, box.value.length);
      });
    });
    keepRescuedText();
    restoreRescuedText();
    document.querySelectorAll("[data-sd-presence-url]").forEach(showPresence);
    // Says the shortcuts are live: a key pressed earlier would be lost, so browser tests wait for this.
    document.documentElement.dataset.sdReady = "true";
  });

  // Who else has this ticket open: the page says it is here every few seconds (sooner when its user
  // starts typing) and shows who else is; when it closes it says goodbye.
  function showPresence(shown) {
    var url = shown.dataset.sdPresenceUrl;
    var every = (parseInt(shown.dataset.sdPresenceEvery, 10) || 10) * 1000;
    var token = document.querySelector("input[name=csrf_token]");
    var box = document.querySelector("[data-sd-reply]");
    if (!token) { return; }
    var typedAt = 0;
    var lastBeat = 0;
    function beat() {
      if (document.visibilityState === "hidden") { return; }
      lastBeat = Date.now();
      var typing = Date.now() - typedAt < every ? "1" : "";
      fetch(url, {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token.value },
        body: new URLSearchParams({ typing: typing }),
      }).then(function (response) {
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html !== null) { shown.innerHTML = html; }
      }).catch(function () { /* the next beat tries again */ });
    }
    if (box) {
      box.addEventListener("input", function () {
        var first = Date.now() - typedAt > every;
        typedAt = Date.now();
        if (first && Date.now() - lastBeat > 1000) { beat(); }
      });
    }
    beat();
    setInterval(beat, every);
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") { beat(); } });
    window.addEventListener("pagehide", function () {
      var goodbye = new FormData();
      goodbye.append("csrf_token", token.value);
      goodbye.append("leaving", "1");
      if (navigator.sendBeacon) { navigator.sendBeacon(url, goodbye); }
    });
  }

  // A form refused as stale shows what was typed (errors/stale_form.html); keep it for the page it came
  // from, for the same user, and put it back in its empty box there.
  var RESCUED = "sd-rescued:";
  var WEEK = 7 * 24 * 3600 * 1000;

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function keepRescuedText() {
    var store = storage();
    var user = document.body.dataset.sdUser;
    if (store && user) { store.setItem("sd-user", user); }
    document.querySelectorAll("[data-sd-rescue]").forEach(function (kept) {
      var fields = {};
      kept.querySelectorAll("[data-sd-rescued]").forEach(function (text) { fields[text.dataset.sdRescued] = text.value; });
      if (store) {
        store.setItem(RESCUED + kept.dataset.sdRescue, JSON.stringify({ at: Date.now(), user: store.getItem("sd-user"), fields: fields }));
      }
    });
    document.querySelectorAll("[data-sd-copy-rescued]").forEach(function (button) {
      button.addEventListener("click", function () {
        var texts = Array.prototype.map.call(document.querySelectorAll("[data-sd-rescued]"), function (t) { return t.value; });
        if (navigator.clipboard) {
          navigator.clipboard.writeText(texts.join("\n\n")).then(function () { button.textContent = "Copied"; });
        }
      });
    });
  }

  function restoreRescuedText() {
    var store = storage();
    var user = document.body.dataset.sdUser;
    if (!store || !user || document.querySelector("[data-sd-rescue]")) { return; }
    var key = RESCUED + window.location.pathname + window.location.search;
    var raw = store.getItem(key);
    if (!raw) { return; }
    var kept = null;
    try { kept = JSON.parse(raw); } catch (e) { kept = null; }
    if (!kept || kept.user !== user || Date.now() - kept.at > WEEK) {
      if (!kept || kept.user === user || Date.now() - kept.at > WEEK) { store.removeItem(key); }
      return; // another user's text stays for them (a shared computer), and never shows here
    }
    Object.keys(kept.fields || {}).forEach(function (name) {
      var field = document.querySelector("form textarea[name='" + name.replace(/[^a-z_]/g, "") + "'], form input[type=text][name='" + name.replace(/[^a-z_]/g, "") + "']");
      if (field && !field.value.trim()) {
        field.value = kept.fields[name];
        field.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
    store.removeItem(key);
  }

  // Typed text is never lost: the composer is saved as a draft on the server a moment after each pause
  // (another device of the same user finds it), saved before any other form of the page is sent (the
  // page comes back with it), and leaving the page with text in it asks first.
  function keepDrafts(form) {
    var box = form.querySelector("[data-sd-reply]");
    var status = form.querySelector("[data-sd-draft-status]");
    var token = form.querySelector("input[name=csrf_token]");
    if (!box || !token) { return; }
    var leaving = false;
    var timer = null;
    var saved = { body: box.value, visibility: visibility() };

    function visibility() {
      var chosen = form.querySelector("input[name=visibility]:checked");
      return chosen ? chosen.value : "";
    }
    function dirty() { return box.value !== saved.body || visibility() !== saved.visibility; }
    function say(text) { if (status) { status.textContent = text; } }

    function save() {
      clearTimeout(timer);
      if (!dirty()) { return Promise.resolve(true); }
      var sent = { body: box.value, visibility: visibility() };
      var data = new URLSearchParams({ body: sent.body, visibility: sent.visibility });
      return fetch(form.dataset.sdDraftUrl, {
        method: "POST", body: data, credentials: "same-origin", keepalive: sent.body.length < 60000,
        headers: { "X-CSRFToken": token.value },
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        saved = sent;
        say(sent.body.trim() ? "Draft saved" : "");
        return true;
      }).catch(function () {
        say("Draft not saved: keep this page open, or copy your text.");
        return false;
      });
    }
    function later() { clearTimeout(timer); timer = setTimeout(save, 600); }

    box.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", function () { leaving = true; });
    // Any other form of the page (the sidebar, assign to me) saves the draft first; the page it leads
    // to shows the draft again.
    document.querySelectorAll("form[method=post]").forEach(function (other) {
      if (other === form) { return; }
      other.addEventListener("submit", function (event) {
        if (other.dataset.sdDraftKept === "1" || !dirty()) { leaving = true; return; }
        event.preventDefault();
        save().then(function () {
          leaving = true;
          other.dataset.sdDraftKept = "1";
          other.requestSubmit(event.submitter || undefined);
        });
      });
    });
    window.addEventListener("beforeunload", function (event) {
      if (leaving || !box.value.trim()) { return; }
      save();
      event.preventDefault();
      event.returnValue = "";
    });
  }
})();
