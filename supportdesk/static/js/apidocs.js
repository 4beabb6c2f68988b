// Render the generated OpenAPI document with Swagger UI (from npm, see package.json).
(function () {
  "use strict";
  var root = document.getElementById("swagger");
  window.SwaggerUIBundle({ url: root.dataset.specUrl, dom_id: "#swagger", deepLinking: true });
})();
