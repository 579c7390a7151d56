"""The apps the benchmark serves: three references (R0, R1, R2) and the gateway's bench version,
which answer ``GET /apiv1/ping`` with the same body, ``{"user":"alice"}``; and, for the database
route, the hand-written app (H) with ``accounts.py``, which the peers' apps share too.
"""
