"""A product app's integration with Creditdesk, standard library only.

CREDITDESK_URL and CREDITDESK_API_KEY (scopes users:write, credits:read, credits:write) are
required; EXAMPLE_USER_PREFIX names this run's users.
"""
import os
import sys
import time

from creditdesk import Creditdesk, CreditdeskError


def say(what, value):
    print(f"{what}: {value}", flush=True)


def main():
    api_key = os.environ.get("CREDITDESK_API_KEY")
    if not api_key:
        sys.exit("Set CREDITDESK_API_KEY to an API key with users:write, credits:read and credits:write.")
    creditdesk = Creditdesk(os.environ.get("CREDITDESK_URL", "http://localhost:3000"), api_key)
    prefix = os.environ.get("EXAMPLE_USER_PREFIX", f"example-py-{int(time.time())}")

    # 1. The product's user, on the Plus tier: it starts with the tier's monthly allowance.
    user_id = f"{prefix}-plus"
    created = creditdesk.mutate("users.upsert", {"userId": user_id, "email": f"{user_id}@example.com", "tier": "plus"})
    say("created", f"{created['userId']} on {created['tier']} with {created['currentBalance']} credits")

    # 2. Its balance, read with the API key and with the user's own short-lived token.
    balance = creditdesk.query("credits.balance", {"userId": user_id})
    say("balance", balance["currentBalance"] + balance["bonusBalance"])
    token = creditdesk.mutate("auth.userToken", {"userId": user_id})["token"]
    own = creditdesk.query("credits.balance", {"userId": user_id}, token=token)
    say("balance with user token", own["currentBalance"] + own["bonusBalance"])

    # 3. A charge with an idempotency key, and the same request again (a retry after a timeout, say).
    charge = {"userId": user_id, "credits": 2, "enhancementType": "lighting", "idempotencyKey": f"{prefix}-order-1"}
    first = creditdesk.mutate("credits.consume", charge)
    say("consumed", f"{first['creditsConsumed']} credits in transaction {first['transactionId']}, {first['remainingBalance']} left")
    replay = creditdesk.mutate("credits.consume", charge)
    same = replay["transactionId"] == first["transactionId"]
    say("replayed", f"same transaction {replay['transactionId']}, nothing charged twice" if same else "A NEW CHARGE")
    after = creditdesk.query("credits.balance", {"userId": user_id})
    say("balance after replay", after["currentBalance"] + after["bonusBalance"])

    # 4. A free user has no credits for AI work: the refusal's reason is what the app branches on.
    free_user = f"{prefix}-free"
    creditdesk.mutate("users.upsert", {"userId": free_user, "tier": "free"})
    try:
        creditdesk.mutate("credits.consume", {"userId": free_user, "credits": 1, "enhancementType": "upscale", "idempotencyKey": f"{prefix}-order-2"})
        say("free user", "CHARGED")
    except CreditdeskError as err:
        say("free user refused", f"{err.reason} (HTTP {err.status}): {err}")


if __name__ == "__main__":
    main()
