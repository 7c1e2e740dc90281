// Swagger UI over this node's own openapi.yaml (no inline script: the page's CSP forbids it).
window.addEventListener('DOMContentLoaded', () => {
  window.SwaggerUIBundle({
    url: '/v1/openapi.yaml',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
  });
});
