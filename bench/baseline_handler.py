"""The bare baseline for the cold-start comparison: the least a stdlib Slack forwarder imports.

It imports only json, logging, os, datetime and urllib.request, reads its webhook URL at import
time like the real handler, and posts one plain message per SNS record. The benchmark imports
it in fresh processes next to the real handler; it is never deployed.
"""

import datetime
import json
import logging
import os
import urllib.request

LOGGER = logging.getLogger()
LOGGER.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
WEBHOOK_URL = os.environ["SLACK_WEBHOOK_URL"]


def lambda_handler(event: dict, context: object) -> dict:
    """Post each SNS record's message to Slack as plain text."""
    delivered = 0
    for record in event.get("Records", []):
        message = record.get("Sns", {}).get("Message", "")
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        body = json.dumps({"text": f"{message} ({stamp})"}).encode()
        request = urllib.request.Request(
            WEBHOOK_URL, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
        delivered += 1
        LOGGER.info(json.dumps({"delivered": delivered}))
    return {"delivered": delivered}
