"""``make bench``: the gateway's throughput, latency, dispatch, login and startup costs, measured
on loopback against hand-written reference apps, in one run. See ``bench/run.py``.
"""
