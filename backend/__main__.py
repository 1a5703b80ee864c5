"""`python -m backend` is `coalition-hub`."""

from backend.cli import app

app(prog_name="coalition-hub")
