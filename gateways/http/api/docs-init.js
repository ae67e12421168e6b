// Starts Swagger UI on the docs page (a file, not inline: the page's CSP allows only 'self' scripts).
/* global SwaggerUIBundle */
window.addEventListener('DOMContentLoaded', function () {
  var el = document.getElementById('api-docs');
  SwaggerUIBundle({ url: el.dataset.document, dom_id: '#api-docs', deepLinking: true, tryItOutEnabled: false });
});
