/* Pickers: the desk's requester combobox (search as you type; arrows, Enter and the mouse pick). */
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

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-sd-requester-picker]").forEach(requesterPicker);
  });
})();
