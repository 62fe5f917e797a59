"""A Creditdesk client using only the Python standard library (urllib, json).

Every procedure is plain HTTP with JSON, as /openapi.json documents:
  queries    GET  /trpc/<procedure>?input=<URL-encoded JSON>
  mutations  POST /trpc/<procedure> with the input as the JSON body
The answer is {"result": {"data": ...}}; a refusal is {"error": {"message", "data": {"reason", ...}}}.
"""
import json
import urllib.error
import urllib.parse
import urllib.request


class CreditdeskError(Exception):
    """A refused or failed call: branch on `reason` (e.g. INSUFFICIENT_CREDITS)."""

    def __init__(self, status, body):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        data = error.get("data") or {}
        self.status = status
        self.reason = data.get("reason", "UNEXPECTED_RESPONSE")
        self.details = data.get("details")
        super().__init__(error.get("message", f"Unexpected answer (HTTP {status}) from Creditdesk."))


class Creditdesk:
    def __init__(self, base_url, token=None, timeout=30):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def query(self, procedure, payload, token=None):
        url = f"{self.base_url}/trpc/{procedure}?input={urllib.parse.quote(json.dumps(payload), safe='')}"
        return self._send(urllib.request.Request(url, method="GET"), token)

    def mutate(self, procedure, payload, token=None):
        body = json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(f"{self.base_url}/trpc/{procedure}", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        return self._send(request, token)

    def _send(self, request, token):
        bearer = token or self.token
        if bearer:
            request.add_header("Authorization", f"Bearer {bearer}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)["result"]["data"]
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            raise CreditdeskError(err.code, body) from None
