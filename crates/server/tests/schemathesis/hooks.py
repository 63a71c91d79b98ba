"""Schemathesis hooks for touchtone's API: every generated body that carries
a session ID gets a fresh one, so the functions are exercised past the
session check (a session ID is spent by each call).

A session is bound to the address that signed in, so the hook signs in
from the address the generated requests come from.
"""

import os
import random
import requests
import schemathesis

BASE = os.environ["TOUCHTONE_API"]
CA = os.environ["TOUCHTONE_CA"]
USER = os.environ["TOUCHTONE_USER"]
PASSWORD = os.environ["TOUCHTONE_PASSWORD"]
ivr = requests.Session()


def fresh_session():
    for attempt in range(3):
        try:
            answer = ivr.post(f"{BASE}/Login", json={"user": USER, "password": PASSWORD}, verify=CA, timeout=30)
            answer.raise_for_status()
            return answer.json()["session"]
        except requests.ConnectionError:
            # A pooled connection the server had closed: sign in again.
            if attempt == 2:
                raise


# People the server knows: half of the well-formed user IDs become one of
# them, so that the functions get past "unknown user". A value that breaks
# the schema is left as it is, so an invalid case stays invalid.
PEOPLE = [p for p in os.environ.get("TOUCHTONE_PEOPLE", "").split(",") if p]
choose = random.Random(20261204)


def well_formed_id(value):
    return isinstance(value, str) and 0 < len(value) <= 256 and all(
        not (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F) for c in value
    )


@schemathesis.hook
def map_body(ctx, body):
    if isinstance(body, dict) and isinstance(body.get("session"), str):
        body["session"] = fresh_session()
    if isinstance(body, dict) and PEOPLE and well_formed_id(body.get("user_id")) and choose.random() < 0.5:
        body["user_id"] = choose.choice(PEOPLE)
    return body
