/**
 * The API reference page. Its scripts are files of this server (the CSP allows no inline script
 * and no other origin); the reference reads /openapi.json and loads no web fonts from elsewhere.
 */
export const docsPage = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Creditdesk API reference</title>
  </head>
  <body>
    <div id="api-reference"></div>
    <noscript>The API reference needs JavaScript; the document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
    <script src="/docs/scalar.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

export const docsInitScript = `Scalar.createApiReference('#api-reference', {
  url: '/openapi.json',
  withDefaultFonts: false,
  hideClientButton: true,
  telemetry: false,
});
`;
