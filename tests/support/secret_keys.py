"""The secret key the test suite seals with (a test constant, never a deployment's)."""

from __future__ import annotations

# 32 bytes in URL-safe base64, as `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`
# prints one. Tests that need another key generate it.
TEST_SECRET_KEY = "Y4KsvOJFYaNvtvDGJPli0dbW9DiCJvxB6CA-rOnkqSg"
