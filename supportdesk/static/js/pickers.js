/* Pickers: the desk's requester combobox and the composer's canned replies and article links (search
   as you type; arrows, Enter and the mouse pick), and the confirmation a destructive button asks for. */
(function () {
  "use strict";

  function requesterPicker(form) {
    var input = form.querySelector("#requester-search");
    var holder = form.querySelector("[data-sd-requester-options]");
    var hidden = form.querySelector("[data-sd-requester-id]");
    var chosen = form.querySelector("[data-sd-requester-chosen]");
    var search = form.querySelector("[data-sd-requester-search]");
    var add = form.querySelector("[data-sd-requester-add]");
    var fresh = form.querySelector("#new-requester");
    var timer = null;
    var asked = 0;
    var active = -1;

    function options() { return Array.prototype.slice.call(holder.querySelectorAll("[role=option]")); }
    function highlight(index) {
      var all = options();
      active = all.length ? (index + all.length) % all.length : -1;
      all.forEach(function (option, i) {
        option.classList.toggle("active", i === active);
        option.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      if (active >= 0) {
        input.setAttribute("aria-activedescendant", all[active].id);
        all[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function close() {
      holder.innerHTML = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function pick(option) {
      hidden.value = option.dataset.sdPick;
      var shown = chosen.querySelector("span");
      shown.textContent = "";
      var name = document.createElement("strong");
      name.textContent = option.dataset.name;
      shown.appendChild(name);
      shown.appendChild(document.createTextNode(" · " + option.dataset.email));
      chosen.classList.remove("d-none");
      search.classList.add("d-none");
      close();
      fresh.hidden = true;
      add.setAttribute("aria-expanded", "false");
      fresh.querySelectorAll("input").forEach(function (field) { field.value = ""; });
      chosen.querySelector("button").focus();
    }
    function ask() {
      var text = input.value.trim();
      var mine = ++asked;
      if (!text) { close(); return; }
      fetch(form.dataset.sdSearchUrl + "?q=" + encodeURIComponent(text), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) {
          if (mine !== asked) { return; }  // a later keystroke's answer wins
          holder.innerHTML = html;
          input.setAttribute("aria-expanded", options().length ? "true" : "false");
          active = -1;
        })
        .catch(function () { /* the next keystroke asks again */ });
    }

    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 150); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (options().length) { highlight(active + (event.key === "ArrowDown" ? 1 : -1)); }
      } else if (event.key === "Enter") {
        event.preventDefault();  // Enter in the search box picks; it never sends the form half-filled
        var all = options();
        if (all.length) { pick(all[active >= 0 ? active : 0]); }
      } else if (event.key === "Escape") {
        close();
      }
    });
    holder.addEventListener("mousedown", function (event) { event.preventDefault(); });
    holder.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) { pick(option); }
    });
    chosen.querySelector("[data-sd-requester-change]").addEventListener("click", function () {
      hidden.value = "";
      chosen.classList.add("d-none");
      search.classList.remove("d-none");
      input.focus();
    });
    add.addEventListener("click", function () {
      var opening = fresh.hidden;
      fresh.hidden = !opening;
      add.setAttribute("aria-expanded", opening ? "true" : "false");
      if (opening) {
        hidden.value = "";
        chosen.classList.add("d-none");
        search.classList.remove("d-none");
        close();
        var name = fresh.querySelector("#new_name");
        if (!name.value && input.value.trim() && input.value.indexOf("@") < 0) { name.value = input.value.trim(); }
        name.focus();
      }
    });
  }


  // The composer's pickers: canned replies ("::") and help articles' links ("??"), the same keys and
  // clicks; what an option inserts is its data-body.
  function cannedPicker(box) {
    composerPicker(box, {
      url: box.dataset.sdCannedUrl, open: "[data-sd-canned-open]", search: "#canned-search",
      options: "[data-sd-canned-options]", trigger: /(^|\s)::$/
    });
  }
  function articlePicker(box) {
    composerPicker(box, {
      url: box.dataset.sdPickerUrl, open: "[data-sd-picker-open]", search: "[data-sd-picker-search]",
      options: "[data-sd-picker-options]", trigger: /(^|\s)\?\?$/
    });
  }

  function composerPicker(box, parts) {
    var form = box.closest("form");
    var composer = form.querySelector("[data-sd-reply]");
    var opener = box.querySelector(parts.open);
    var panel = box.querySelector(".sd-canned-panel");
    var input = box.querySelector(parts.search);
    var holder = box.querySelector(parts.options);
    var timer = null;
    var asked = 0;
    var active = -1;
    var at = { start: 0, end: 0, trigger: 0 };

    function options() { return Array.prototype.slice.call(holder.querySelectorAll("[role=option]")); }
    function highlight(index) {
      var all = options();
      active = all.length ? (index + all.length) % all.length : -1;
      all.forEach(function (option, i) {
        option.classList.toggle("active", i === active);
        option.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      if (active >= 0) {
        input.setAttribute("aria-activedescendant", all[active].id);
        all[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }
    function ask() {
      var mine = ++asked;
      fetch(parts.url + "?q=" + encodeURIComponent(input.value.trim()), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (html) {
          if (mine !== asked) { return; }
          holder.innerHTML = html;
          input.setAttribute("aria-expanded", options().length ? "true" : "false");
          highlight(options().length ? 0 : -1);
        })
        .catch(function () { /* the next keystroke asks again */ });
    }
    function open(trigger) {
      // Where the text goes: the caret (or selection) as it was, less the "::" that opened the picker.
      at = { start: composer.selectionStart, end: composer.selectionEnd, trigger: trigger };
      panel.hidden = false;
      opener.setAttribute("aria-expanded", "true");
      input.value = "";
      input.focus();
      ask();
    }
    function close(back) {
      panel.hidden = true;
      opener.setAttribute("aria-expanded", "false");
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      holder.innerHTML = "";
      active = -1;
      if (back) { composer.focus(); composer.setSelectionRange(at.start, at.end); }
    }
    function insert(option) {
      var text = composer.value;
      var start = at.start - at.trigger;
      composer.value = text.slice(0, start) + option.dataset.body + text.slice(at.end);
      var caret = start + option.dataset.body.length;
      at = { start: caret, end: caret, trigger: 0 };
      close(true);
      // The draft keeps it, and the presence line says the user is typing.
      composer.dispatchEvent(new Event("input", { bubbles: true }));
    }

    opener.addEventListener("click", function () {
      if (panel.hidden) { open(0); } else { close(true); }
    });
    composer.addEventListener("input", function (event) {
      if (!event.isTrusted || !panel.hidden) { return; }
      var caret = composer.selectionStart;
      var before = composer.value.slice(0, caret);
      // "::" (or "??") at the start of a word (not inside "fe80::1", a time like 10::, or "what??").
      if (caret === composer.selectionEnd && parts.trigger.test(before)) { open(2); }
    });
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 150); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (options().length) { highlight(active + (event.key === "ArrowDown" ? 1 : -1)); }
      } else if (event.key === "Enter") {
        event.preventDefault();  // never sends the reply from the picker
        var all = options();
        if (all.length) { insert(all[active >= 0 ? active : 0]); }
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        close(true);
      }
    });
    holder.addEventListener("mousedown", function (event) { event.preventDefault(); });
    holder.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) { insert(option); }
    });
  }

  // A Copy button puts the text of the element its data-sd-copy names on the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-sd-copy]") : null;
    if (!button) { return; }
    var source = document.querySelector(button.dataset.sdCopy);
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    }, function () {
      button.textContent = "Select the text and copy it";
    });
  });

  // A destructive button asks first: its form carries the question in data-sd-confirm.
  document.addEventListener("submit", function (event) {
    var question = event.target.dataset ? event.target.dataset.sdConfirm : null;
    if (question && !window.confirm(question)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-sd-requester-picker]").forEach(requesterPicker);
    document.querySelectorAll("[data-sd-canned]").forEach(cannedPicker);
    document.querySelectorAll("[data-sd-picker]").forEach(articlePicker);
  });
})();
