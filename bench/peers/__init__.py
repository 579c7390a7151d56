"""The peer libraries' apps: one folder each, with the app built as the library's README builds
it and the pinned requirements of the virtualenv it runs from (``bench/.venvs/<folder>``).
"""
