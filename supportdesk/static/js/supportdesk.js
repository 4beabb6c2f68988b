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
    });
    // Says the shortcuts are live: a key pressed earlier would be lost, so browser tests wait for this.
    document.documentElement.dataset.sdReady = "true";
  });
})();
