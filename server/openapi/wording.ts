import type { PublicProcedure } from './public-procedures';

/** The document's introduction: how any HTTP client calls a procedure (tRPC's own wire format). */
export const wireFormat = `Every operation is a tRPC procedure called over plain HTTP with JSON — no tRPC client needed.

- **Mutations**: \`POST /trpc/<procedure>\` with \`Content-Type: application/json\` and the input as the body.
- **Queries**: \`GET /trpc/<procedure>?input=<URL-encoded JSON input>\`.
- **Authentication**: \`Authorization: Bearer <API key or user token>\`, as each operation states.
- **Success** (HTTP 200): \`{ "result": { "data": <output> } }\` — plain JSON, no transformer.
- **Failure** (HTTP 4xx/5xx): \`{ "error": { "message", "code", "data": { "code", "httpStatus", "reason", … } } }\`.
  \`error.data.reason\` is the stable reason to branch on (e.g. \`INSUFFICIENT_CREDITS\`, \`IDEMPOTENCY_CONFLICT\`).

Charges take an \`idempotencyKey\`: sending the same request again answers the first result and charges nothing twice.`;

function credentialText(proc: PublicProcedure): string {
  const c = proc.credential;
  if (!c) return 'No credential needed.';
  const key = `an API key with the \`${c.apiKeyScope}\` scope`;
  return c.userToken ? `Bearer: ${key}, or the user's own token (auth.userToken) for that user only.` : `Bearer: ${key}.`;
}

export function operationDescription(proc: PublicProcedure): string {
  const call = proc.type === 'query' ? `Query: \`GET /trpc/${proc.path}?input=<URL-encoded JSON>\`.` : `Mutation: \`POST /trpc/${proc.path}\` with the input as the JSON body.`;
  return [proc.meta?.description, call, credentialText(proc)].filter(Boolean).join('\n\n');
}
