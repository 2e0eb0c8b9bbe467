"""The SMS and phone (IVR) channel: Twilio webhooks, the worker that sends, a simulator.

``sms.conversation`` and ``sms.ivr`` are plain functions that know no provider;
``sms.twilio_adapter`` is the only module that knows Twilio. Which SMS the service sends
on its own, and their words, is the core's (:mod:`shared.outreach`).
"""

from flask import Blueprint, Flask

bp = Blueprint(
    "sms",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/dev/phone/static",
)

from sms import simulator, views  # noqa: E402,F401  (registers the routes on bp)


def init_app(app: Flask) -> None:
    """Register the channel's commands; the sender is made lazily, on first send."""
    from sms import cli

    for command in cli.COMMANDS:
        app.cli.add_command(command)
