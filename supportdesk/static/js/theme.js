// Light and dark themes: follow the system until the user picks one, then remember the choice.
(function () {
  "use strict";
  var root = document.documentElement;
  var stored = null;
  try { stored = localStorage.getItem("sd-theme"); } catch (e) { stored = null; }
  var prefersDark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  root.setAttribute("data-bs-theme", stored || (prefersDark ? "dark" : "light"));
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-sd-theme-toggle]").forEach(function (button) {
      button.addEventListener("click", function () {
        var next = root.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
        root.setAttribute("data-bs-theme", next);
        try { localStorage.setItem("sd-theme", next); } catch (e) { /* private mode */ }
      });
    });
  });
})();
