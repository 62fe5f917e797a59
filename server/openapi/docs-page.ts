/**
 * The API reference page. Its scripts are files of this server (the CSP allows no inline script
 * and no other origin); the reference reads /openapi.json and loads no web fonts from elsewhere.
 */
/**
 * Stricter than the app's own CSP: the reference's optional hosted extras (images, an AI agent's
 * registry behind proxy.scalar.com) are refused, so the page talks to this server alone.
 */
export const docsCsp = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const docsPage = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Creditdesk API reference</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <div id="api-reference"></div>
    <noscript>The API reference needs JavaScript; the document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
    <script src="/docs/scalar.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

// No hosted extras: no web fonts, no hosted API client button or AI agent, no developer toolbar, no telemetry.
export const docsInitScript = `Scalar.createApiReference('#api-reference', {
  sources: [{ url: '/openapi.json', agent: { disabled: true } }],
  agent: { disabled: true },
  withDefaultFonts: false,
  hideClientButton: true,
  showDeveloperTools: 'never',
  defaultOpenAllTags: true,
  telemetry: false,
});
`;
