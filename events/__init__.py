"""The live-event library: envelope and message catalogue. It never imports `backend`."""
