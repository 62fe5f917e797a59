import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { errorReasons } from '../../shared/enums';

const trpcCodes = Object.keys(TRPC_ERROR_CODES_BY_KEY);

/**
 * The error every failed call answers with: tRPC's error shape as server/trpc/init.ts's
 * errorFormatter extends it (and http-guards.ts's refusals before tRPC, which carry the same
 * `code`, `httpStatus` and `reason`).
 */
export const errorComponents = {
  schemas: {
    ErrorReason: {
      description: 'Stable machine-readable reason: a domain refusal (e.g. INSUFFICIENT_CREDITS) or, for errors without one, the tRPC error code. Branch on this, not on the message.',
      type: 'string',
      // A domain reason and a tRPC code can share a name (BAD_REQUEST): listed once.
      enum: [...new Set([...errorReasons, ...trpcCodes])],
    },
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['message', 'code', 'data'],
          properties: {
            message: { type: 'string', description: 'A sentence for a person; for bad input it names each failing field.' },
            code: { type: 'integer', description: 'The JSON-RPC 2.0 error number tRPC gives the code (e.g. -32600).' },
            data: {
              type: 'object',
              required: ['code', 'httpStatus', 'reason'],
              properties: {
                code: { type: 'string', enum: trpcCodes, description: 'The tRPC error code.' },
                httpStatus: { type: 'integer', description: 'The HTTP status of the answer.' },
                reason: { $ref: '#/components/schemas/ErrorReason' },
                path: { type: ['string', 'null'], description: 'The procedure that failed.' },
                details: { type: ['object', 'null'], description: 'Facts a domain refusal adds (e.g. the balance).' },
                fields: { type: ['array', 'null'], items: { type: 'string' }, description: 'The input fields that failed validation.' },
                fieldErrors: {
                  type: ['object', 'null'],
                  additionalProperties: { type: 'string' },
                  description: 'Each failing field’s first problem, keyed by field path.',
                },
              },
            },
          },
        },
      },
    },
  },
  responses: {
    Error: {
      description: 'The call failed; the HTTP status is `error.data.httpStatus` and `error.data.reason` says why.',
      content: {
        'application/json': {
          schema: { $ref: '#/components/schemas/Error' },
          example: {
            error: {
              message: 'Insufficient credits. Upgrade to Plus or Pro for AI enhancements.',
              code: TRPC_ERROR_CODES_BY_KEY.PRECONDITION_FAILED,
              data: { code: 'PRECONDITION_FAILED', httpStatus: 412, reason: 'INSUFFICIENT_CREDITS', path: 'credits.consume', details: null, fields: null, fieldErrors: null },
            },
          },
        },
      },
    },
  },
} as const;
