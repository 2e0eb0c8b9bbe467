"""The SMS and phone (IVR) channel: gateway webhooks, the worker that sends, a simulator.

``sms.conversation`` and ``sms.ivr`` are plain functions that know no provider;
``sms.twilio_adapter`` is the only module that knows Twilio's webhooks and
``sms.android_webhook`` the only one that knows SMS Gateway for Android's;
``sms.senders`` holds the outbound side of both. Which SMS the service sends on its own,
and their words, is the core's (:mod:`shared.outreach`).
"""

from flask import Blueprint

bp = Blueprint(
    "sms",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/dev/phone/static",
)

from sms import android_webhook, simulator, views  # noqa: E402,F401  (registers the routes on bp)
