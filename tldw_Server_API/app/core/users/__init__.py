"""Accounts that sign in with a password: hashing, storage, tokens, sign-in, and the command.

``python -m tldw_Server_API.app.core.users add NAME`` creates an account (see
:mod:`.__main__`); ``/api/v1/auth/*`` signs it in (``api/v1/auth.py``).
"""
