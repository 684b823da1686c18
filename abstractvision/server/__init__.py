"""An OpenAI-compatible HTTP server over any backend (``abstractvision serve``; ``app.create_app``).

Needs the ``server`` extra (FastAPI, uvicorn); nothing here is imported by ``import abstractvision``.
"""
