"""The local adapter: a web playground and a JSON API, a first-class platform.

Used for trying the bot without any Slack or Teams account, and for black-box tests.
"""

PLATFORM = "local"
WORKSPACE = "local"
