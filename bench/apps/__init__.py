"""The apps the benchmark serves: three references (R0, R1, R2) and the gateway's bench version.

Every one answers ``GET /apiv1/ping`` with the same body, ``{"user":"alice"}``.
"""
