#!/usr/bin/env python3
"""Verify Standard Webhooks signatures with the official `standardwebhooks` library.

Millwright's webhook signatures must be accepted by the libraries receivers already use, so
tests check them here rather than against our own verifier. Reads one JSON object per line on
stdin:

    {"secret": "whsec_...", "id": "evt_...", "timestamp": "1700000000",
     "body": "<raw body as a string>", "signature": "v1,... v1,..."}

and prints one JSON object per line on stdout, in the same order:

    {"id": "evt_...", "ok": true, "error": null}
    {"id": "evt_...", "ok": false, "error": "No matching signature found"}

The timestamp is checked against this machine's clock (the library's 5-minute tolerance).
Requires `pip install standardwebhooks`; see MILLWRIGHT_TEST_WEBHOOK_PYTHON in scripts/test.
"""

import json
import sys

from standardwebhooks.webhooks import Webhook


def check(request):
    webhook = Webhook(request["secret"])
    headers = {
        "webhook-id": request["id"],
        "webhook-timestamp": str(request["timestamp"]),
        "webhook-signature": request["signature"],
    }
    # json_parse=False: this checks the signature only, whatever the body is.
    webhook.verify(request["body"], headers, json_parse=False)


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        msg_id = None
        try:
            request = json.loads(line)
            msg_id = request.get("id")
            check(request)
            result = {"id": msg_id, "ok": True, "error": None}
        except Exception as e:  # any failure is a rejection, reported with its reason
            result = {"id": msg_id, "ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
