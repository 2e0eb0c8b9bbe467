"""The baseline for the booking benchmark: a bare Flask endpoint, no database, no signature.

Served by the same gunicorn configuration as the real app (``bench.bare_app:app``), it
answers an SMS webhook's POST with a short TwiML reply, so the ratio measures what the
booking itself costs on top of HTTP, Flask and gunicorn.
"""

from flask import Flask, Response, request

app = Flask(__name__)
TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/sms/inbound")
def sms_inbound() -> Response:
    # Reads the form like the real webhook, so both parse the same request body.
    body = request.form.get("Body", "")
    twiml = f"{TWIML_HEAD}<Response><Message>Got {len(body)} characters.</Message></Response>"
    return Response(twiml, mimetype="text/xml")
