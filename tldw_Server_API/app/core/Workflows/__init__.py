"""Workflows: versioned definitions, and a runtime that executes their runs from the database.

``definitions.py`` (what a definition is), ``steps/`` (the step types),
``engine.py`` (one run, step by step), ``runtime.py`` (worker threads, claims,
heartbeats), ``worker.py`` (a worker process), ``api.py`` (the HTTP routes).
The data lives in the workflows database through
the ``DB_Management/stores/workflows`` package. See README.md beside this file.
"""
