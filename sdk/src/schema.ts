// Generated from sdk/openapi.json by openapi-typescript (npm run sdk:generate). Do not edit.

export interface paths {
    "/trpc/auth.userToken": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Mint a short-lived token with which one user’s browser reads that user’s own credits
         * @description Mutation: `POST /trpc/auth.userToken` with the input as the JSON body.
         *
         *     Bearer: an API key with the `users:write` scope.
         */
        post: operations["auth.userToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/credits.balance": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a user’s balance
         * @description Query: `GET /trpc/credits.balance?input=<URL-encoded JSON>`.
         *
         *     Bearer: an API key with the `credits:read` scope, or the user's own token (auth.userToken) for that user only.
         */
        get: operations["credits.balance"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/credits.capture": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Charge a held reservation
         * @description Only the API key that made the hold may capture it.
         *
         *     Mutation: `POST /trpc/credits.capture` with the input as the JSON body.
         *
         *     Bearer: an API key with the `credits:write` scope.
         */
        post: operations["credits.capture"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/credits.consume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Charge credits for an enhancement the product ran itself
         * @description Idempotent on `idempotencyKey`: a replay answers the first result and charges nothing twice. A user without credits is refused with reason INSUFFICIENT_CREDITS.
         *
         *     Mutation: `POST /trpc/credits.consume` with the input as the JSON body.
         *
         *     Bearer: an API key with the `credits:write` scope.
         */
        post: operations["credits.consume"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/credits.history": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Page through a user’s credit history, newest first
         * @description Pass `nextCursor` back as `cursor` for the next page. A user token sees the public view of each entry.
         *
         *     Query: `GET /trpc/credits.history?input=<URL-encoded JSON>`.
         *
         *     Bearer: an API key with the `credits:read` scope, or the user's own token (auth.userToken) for that user only.
         */
        get: operations["credits.history"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/credits.release": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Give a held reservation’s credits back
         * @description Mutation: `POST /trpc/credits.release` with the input as the JSON body.
         *
         *     Bearer: an API key with the `credits:write` scope.
         */
        post: operations["credits.release"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/credits.reserve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Hold credits before a long job; capture or release the hold afterwards
         * @description An uncaptured hold is released by itself after `ttlSeconds`.
         *
         *     Mutation: `POST /trpc/credits.reserve` with the input as the JSON body.
         *
         *     Bearer: an API key with the `credits:write` scope.
         */
        post: operations["credits.reserve"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/enhance.get": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Read a submitted enhancement
         * @description queued or running, or exactly enhance.run's result (enhanced / degraded), or failed when the input image could not be used (nothing charged). Only the API key that submitted it can read it (scope enhance).
         *
         *     Query: `GET /trpc/enhance.get?input=<URL-encoded JSON>`.
         *
         *     Bearer: an API key with the `enhance` scope.
         */
        get: operations["enhance.get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/enhance.run": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Enhance an image, charging the user’s credits
         * @description Runs the enhancement on a provider and answers when it is done; when no provider can, answers a degraded result (a CSS filter or a suggestion) instead. Idempotent on `idempotencyKey`.
         *
         *     Mutation: `POST /trpc/enhance.run` with the input as the JSON body.
         *
         *     Bearer: an API key with the `enhance` scope.
         */
        post: operations["enhance.run"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/enhance.submit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Submit an enhancement to run in the background
         * @description enhance.run's input; answers at once with the enhancement's id (status queued) after holding one credit. The work runs on the job workers; read it with enhance.get. A replayed idempotency key answers the same enhancementId (in its current status) and charges nothing more.
         *
         *     Mutation: `POST /trpc/enhance.submit` with the input as the JSON body.
         *
         *     Bearer: an API key with the `enhance` scope.
         */
        post: operations["enhance.submit"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/users.notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A page of a user's notices, newest first
         * @description Upgrade suggestions, low-credit notices and notices of degraded enhancements, each with a title, a message and an action to offer. An API key with credits:read reads any user (with metadata); a user token from auth.userToken reads its own user only.
         *
         *     Query: `GET /trpc/users.notifications?input=<URL-encoded JSON>`.
         *
         *     Bearer: an API key with the `credits:read` scope, or the user's own token (auth.userToken) for that user only.
         */
        get: operations["users.notifications"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/users.notifications.markRead": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Marks a user's notices read
         * @description Give the ids read, or upTo: the id of the newest notice shown, which marks it and every older one. Same authorisation as users.notifications.
         *
         *     Mutation: `POST /trpc/users.notifications.markRead` with the input as the JSON body.
         *
         *     Bearer: an API key with the `credits:read` scope, or the user's own token (auth.userToken) for that user only.
         */
        post: operations["users.notifications.markRead"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/trpc/users.upsert": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create or update a user (its tier and email)
         * @description A new user gets its tier’s monthly allowance at once; a tier change applies the new allowance for the rest of the month.
         *
         *     Mutation: `POST /trpc/users.upsert` with the input as the JSON body.
         *
         *     Bearer: an API key with the `users:write` scope.
         */
        post: operations["users.upsert"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        "auth.userToken.output": {
            token: string;
            expiresAt: string;
        };
        "auth.userToken.input": {
            userId: string;
        };
        "credits.balance.output": {
            userId: string;
            /** @enum {string} */
            tier: "free" | "plus" | "pro";
            monthlyAllowance: number;
            currentBalance: number;
            bonusBalance: number;
            consumedThisMonth: number;
            lifetimeConsumed: number;
            lastResetAt: string;
            grants: {
                grantId: string | null;
                /** @enum {string} */
                kind: "allowance" | "promotional" | "paid" | "rollover";
                priority: number;
                credits: number;
                remaining: number;
                frozenCredits: number;
                expiresAt: string | null;
                createdAt: string;
                reason: string | null;
            }[];
        };
        "credits.balance.input": {
            userId: string;
        };
        "credits.capture.output": {
            transactionId: string;
            userId: string;
            type: string;
            source: ("user_credits" | "platform_pool") | null;
            creditsUsed: number;
            creditsDelta: number;
            balanceAfter: number;
            costUsd: string | null;
            provider: string | null;
            enhancementType: string | null;
            moodboardId: string | null;
            reservationId: string | null;
            status: string;
            reason: string | null;
            actor: string | null;
            refundable: boolean;
            createdAt: string;
        };
        "credits.capture.input": {
            /** Format: uuid */
            reservationId: string;
            provider?: string;
            costUsd?: string;
            apiRequestId?: string;
        };
        "credits.consume.output": {
            transactionId: string;
            /** @enum {string} */
            source: "user_credits" | "platform_pool";
            creditsConsumed: number;
            remainingBalance: number;
            costUsd: string;
        };
        "credits.consume.input": {
            userId: string;
            credits: number;
            /** @enum {string} */
            enhancementType: "lighting" | "upscale" | "color" | "sharpen" | "denoise" | "style";
            idempotencyKey: string;
            moodboardId?: string;
            provider?: string;
        };
        "credits.history.output": {
            items: {
                transactionId: string;
                userId: string;
                type: string;
                source: ("user_credits" | "platform_pool") | null;
                creditsUsed: number;
                creditsDelta: number;
                balanceAfter: number;
                costUsd: string | null;
                provider: string | null;
                enhancementType: string | null;
                moodboardId: string | null;
                reservationId: string | null;
                status: string;
                reason: string | null;
                actor: string | null;
                refundable: boolean;
                createdAt: string;
            }[];
            nextCursor: string | null;
        } | {
            items: {
                transactionId: string;
                type: string;
                creditsDelta: number;
                balanceAfter: number;
                enhancementType: string | null;
                createdAt: string;
            }[];
            nextCursor: string | null;
        };
        "credits.history.input": {
            userId: string;
            cursor?: string;
            /** @default 25 */
            limit: number;
        };
        "credits.release.output": {
            reservationId: string;
            userId: string;
            credits: number;
            /** @enum {string} */
            source: "user_credits" | "platform_pool";
            /** @enum {string} */
            status: "pending" | "captured" | "released" | "expired";
            expiresAt: string;
            releaseReason: string | null;
        };
        "credits.release.input": {
            /** Format: uuid */
            reservationId: string;
            reason?: string;
        };
        "credits.reserve.output": {
            reservationId: string;
            /** @enum {string} */
            source: "user_credits" | "platform_pool";
            expiresAt: string;
        };
        "credits.reserve.input": {
            userId: string;
            credits: number;
            /** @enum {string} */
            enhancementType: "lighting" | "upscale" | "color" | "sharpen" | "denoise" | "style";
            idempotencyKey: string;
            ttlSeconds?: number;
            moodboardId?: string;
        };
        "enhance.get.output": {
            /** @constant */
            status: "queued";
            /** Format: uuid */
            enhancementId: string;
        } | {
            /** @constant */
            status: "running";
            /** Format: uuid */
            enhancementId: string;
        } | {
            /** @constant */
            status: "enhanced";
            provider: string;
            outputUrl: string;
            costUsd: string;
            /** @enum {string} */
            creditSource: "user_credits" | "platform_pool";
        } | {
            /** @constant */
            status: "degraded";
            /** @enum {string} */
            type: "css_filter_fallback" | "suggestion_fallback";
            originalUrl: string;
            enhancedUrl: string;
            cssFilter?: string;
            suggestion?: string;
            retryAfter?: number;
            message?: string;
            degradationReason: string;
        } | {
            /** @constant */
            status: "failed";
            /** @constant */
            reason: "BAD_REQUEST";
            message: string;
        };
        "enhance.get.input": {
            /** Format: uuid */
            enhancementId: string;
        };
        "enhance.run.output": {
            /** @constant */
            status: "enhanced";
            provider: string;
            outputUrl: string;
            costUsd: string;
            /** @enum {string} */
            creditSource: "user_credits" | "platform_pool";
        } | {
            /** @constant */
            status: "degraded";
            /** @enum {string} */
            type: "css_filter_fallback" | "suggestion_fallback";
            originalUrl: string;
            enhancedUrl: string;
            cssFilter?: string;
            suggestion?: string;
            retryAfter?: number;
            message?: string;
            degradationReason: string;
        };
        "enhance.run.input": {
            userId: string;
            inputImageUrl: string;
            /** @enum {string} */
            enhancementType: "lighting" | "upscale" | "color" | "sharpen" | "denoise" | "style";
            idempotencyKey: string;
            moodboardId?: string;
        };
        "enhance.submit.output": {
            /** Format: uuid */
            enhancementId: string;
            /** @enum {string} */
            status: "queued" | "running" | "enhanced" | "degraded" | "failed";
        };
        "enhance.submit.input": {
            userId: string;
            inputImageUrl: string;
            /** @enum {string} */
            enhancementType: "lighting" | "upscale" | "color" | "sharpen" | "denoise" | "style";
            idempotencyKey: string;
            moodboardId?: string;
        };
        "users.notifications.output": {
            items: {
                id: string;
                type: string;
                title: string;
                message: string;
                action: ({
                    kind: string;
                    label: string;
                    /** @enum {string} */
                    tier?: "free" | "plus" | "pro";
                    retryAfterSeconds?: number;
                } & {
                    [key: string]: unknown;
                }) | null;
                createdAt: string;
                readAt: string | null;
                metadata?: {
                    [key: string]: unknown;
                };
            }[];
            nextCursor: string | null;
            unreadCount: number;
        };
        "users.notifications.input": {
            userId: string;
            unreadOnly?: boolean;
            cursor?: string;
            /** @default 25 */
            limit: number;
        };
        "users.notifications.markRead.output": {
            marked: number;
            unreadCount: number;
        };
        "users.notifications.markRead.input": {
            userId: string;
            ids?: string[];
            upTo?: string;
        };
        "users.upsert.output": {
            userId: string;
            /** @enum {string} */
            tier: "free" | "plus" | "pro";
            monthlyAllowance: number;
            currentBalance: number;
            bonusBalance: number;
            consumedThisMonth: number;
            lifetimeConsumed: number;
            lastResetAt: string;
            grants: {
                grantId: string | null;
                /** @enum {string} */
                kind: "allowance" | "promotional" | "paid" | "rollover";
                priority: number;
                credits: number;
                remaining: number;
                frozenCredits: number;
                expiresAt: string | null;
                createdAt: string;
                reason: string | null;
            }[];
            email: string | null;
        };
        "users.upsert.input": {
            userId: string;
            email?: string;
            /** @enum {string} */
            tier: "free" | "plus" | "pro";
            stripeCustomerId?: string;
        };
        /**
         * @description Stable machine-readable reason: a domain refusal (e.g. INSUFFICIENT_CREDITS) or, for errors without one, the tRPC error code. Branch on this, not on the message.
         * @enum {string}
         */
        ErrorReason: "INSUFFICIENT_CREDITS" | "PLATFORM_CREDITS_DEPLETED" | "OVERFLOW_LIMIT_REACHED" | "PROVIDER_INACTIVE" | "IDEMPOTENCY_CONFLICT" | "RESERVATION_EXPIRED" | "RESERVATION_NOT_PENDING" | "UNKNOWN_USER" | "UNKNOWN_RESERVATION" | "UNAUTHORIZED" | "FORBIDDEN" | "BAD_REQUEST" | "NOT_FOUND" | "CONFLICT" | "TOO_MANY_REQUESTS" | "PASSWORD_CHANGE_REQUIRED" | "SECOND_FACTOR_REQUIRED" | "PARSE_ERROR" | "INTERNAL_SERVER_ERROR" | "NOT_IMPLEMENTED" | "BAD_GATEWAY" | "SERVICE_UNAVAILABLE" | "GATEWAY_TIMEOUT" | "PAYMENT_REQUIRED" | "METHOD_NOT_SUPPORTED" | "TIMEOUT" | "PRECONDITION_FAILED" | "PAYLOAD_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "UNPROCESSABLE_CONTENT" | "PRECONDITION_REQUIRED" | "CLIENT_CLOSED_REQUEST";
        Error: {
            error: {
                /** @description A sentence for a person; for bad input it names each failing field. */
                message: string;
                /** @description The JSON-RPC 2.0 error number tRPC gives the code (e.g. -32600). */
                code: number;
                data: {
                    /**
                     * @description The tRPC error code.
                     * @enum {string}
                     */
                    code: "PARSE_ERROR" | "BAD_REQUEST" | "INTERNAL_SERVER_ERROR" | "NOT_IMPLEMENTED" | "BAD_GATEWAY" | "SERVICE_UNAVAILABLE" | "GATEWAY_TIMEOUT" | "UNAUTHORIZED" | "PAYMENT_REQUIRED" | "FORBIDDEN" | "NOT_FOUND" | "METHOD_NOT_SUPPORTED" | "TIMEOUT" | "CONFLICT" | "PRECONDITION_FAILED" | "PAYLOAD_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "UNPROCESSABLE_CONTENT" | "PRECONDITION_REQUIRED" | "TOO_MANY_REQUESTS" | "CLIENT_CLOSED_REQUEST";
                    /** @description The HTTP status of the answer. */
                    httpStatus: number;
                    reason: components["schemas"]["ErrorReason"];
                    /** @description The procedure that failed. */
                    path?: string | null;
                    /** @description Facts a domain refusal adds (e.g. the balance). */
                    details?: Record<string, never> | null;
                    /** @description The input fields that failed validation. */
                    fields?: string[] | null;
                    /** @description Each failing field’s first problem, keyed by field path. */
                    fieldErrors?: {
                        [key: string]: string;
                    } | null;
                };
            };
        };
    };
    responses: {
        /** @description The call failed; the HTTP status is `error.data.httpStatus` and `error.data.reason` says why. */
        Error: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "error": {
                 *         "message": "Insufficient credits. Upgrade to Plus or Pro for AI enhancements.",
                 *         "code": -32012,
                 *         "data": {
                 *           "code": "PRECONDITION_FAILED",
                 *           "httpStatus": 412,
                 *           "reason": "INSUFFICIENT_CREDITS",
                 *           "path": "credits.consume",
                 *           "details": null,
                 *           "fields": null,
                 *           "fieldErrors": null
                 *         }
                 *       }
                 *     }
                 */
                "application/json": components["schemas"]["Error"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    "auth.userToken": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "userId": "user_42"
                 *     }
                 */
                "application/json": components["schemas"]["auth.userToken.input"];
            };
        };
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["auth.userToken.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "credits.balance": {
        parameters: {
            query: {
                /** @description The input as JSON, URL-encoded. */
                input: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["credits.balance.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "credits.capture": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "reservationId": "4f9c2a7e-1b3d-4c8e-9a6f-2d5b7e8c1a03"
                 *     }
                 */
                "application/json": components["schemas"]["credits.capture.input"];
            };
        };
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["credits.capture.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "credits.consume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "userId": "user_42",
                 *       "credits": 1,
                 *       "enhancementType": "lighting",
                 *       "idempotencyKey": "order-1001-lighting"
                 *     }
                 */
                "application/json": components["schemas"]["credits.consume.input"];
            };
        };
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["credits.consume.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "credits.history": {
        parameters: {
            query: {
                /** @description The input as JSON, URL-encoded. */
                input: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["credits.history.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "credits.release": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "reservationId": "7d2e9b14-5c6a-4f3e-8b1d-9e0a3c6f5b27",
                 *       "reason": "The user cancelled the upload."
                 *     }
                 */
                "application/json": components["schemas"]["credits.release.input"];
            };
        };
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["credits.release.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "credits.reserve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "userId": "user_42",
                 *       "credits": 2,
                 *       "enhancementType": "upscale",
                 *       "idempotencyKey": "order-1002-upscale",
                 *       "ttlSeconds": 300
                 *     }
                 */
                "application/json": components["schemas"]["credits.reserve.input"];
            };
        };
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["credits.reserve.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "enhance.get": {
        parameters: {
            query: {
                /** @description The input as JSON, URL-encoded. */
                input: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["enhance.get.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "enhance.run": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "userId": "user_42",
                 *       "inputImageUrl": "https://images.example.com/kitchen.jpg",
                 *       "enhancementType": "lighting",
                 *       "idempotencyKey": "photo-7731-lighting"
                 *     }
                 */
                "application/json": components["schemas"]["enhance.run.input"];
            };
        };
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["enhance.run.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "enhance.submit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "userId": "user_42",
                 *       "inputImageUrl": "https://images.example.com/photo.jpg",
                 *       "enhancementType": "lighting",
                 *       "idempotencyKey": "enh-2026-12-01-0001"
                 *     }
                 */
                "application/json": components["schemas"]["enhance.submit.input"];
            };
        };
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["enhance.submit.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "users.notifications": {
        parameters: {
            query: {
                /** @description The input as JSON, URL-encoded. */
                input: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["users.notifications.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "users.notifications.markRead": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "userId": "user_42",
                 *       "upTo": "42"
                 *     }
                 */
                "application/json": components["schemas"]["users.notifications.markRead.input"];
            };
        };
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["users.notifications.markRead.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
    "users.upsert": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "userId": "user_42",
                 *       "email": "ada@example.com",
                 *       "tier": "plus"
                 *     }
                 */
                "application/json": components["schemas"]["users.upsert.input"];
            };
        };
        responses: {
            /** @description Success: the output is `result.data`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        result: {
                            data: components["schemas"]["users.upsert.output"];
                        };
                    };
                };
            };
            default: components["responses"]["Error"];
        };
    };
}
