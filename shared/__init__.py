"""The core: domain logic and storage for handing out scarce supplies in batches.

Nothing here handles a request; the blueprints in ``sms/``, ``kiosk/`` and ``admin/``
call these functions and translate the exceptions in :mod:`shared.errors` at the edge.
"""
