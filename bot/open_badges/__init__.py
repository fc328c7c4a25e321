"""Open Badges for real: 2.0 hosted assertions (JSON-LD), baked PNGs, and signed 3.0
credentials, served at stable URLs under PUBLIC_BASE_URL (see routes.py)."""
