# Image of the Ambassador bot. It runs the same install and start steps as
# `make run` (see the Makefile), so what CI tests locally is what the image runs.
#
#   make run (Makefile)                       Dockerfile
#   python3 -m venv .venv                     python3 -m venv /opt/venv
#   pip install --quiet --upgrade pip         pip install --quiet --upgrade pip
#   pip install --quiet -c requirements.lock  pip install --quiet -c requirements.lock .
#       -e '.[dev]'                               (see the comment on that RUN)
#   ambassador-bot migrate                    CMD: ambassador-bot migrate
#   ambassador-bot serve                      CMD: exec ambassador-bot serve
#                                             HEALTHCHECK: ambassador-bot health
#
# (make uses .venv/bin/pip and .venv/bin/ambassador-bot; here /opt/venv/bin.)

# ---- builder: create the venv and install the project into it ---------------
FROM python:3.11-slim-bookworm AS builder

WORKDIR /src

# Only what the install needs: pyproject.toml names README.md as the readme, so
# setuptools reads it while building. Every dependency ships a manylinux wheel
# for CPython 3.11 (asyncpg, cryptography, greenlet, aiohttp...), so no compiler.
COPY pyproject.toml requirements.lock README.md ./
COPY bot/ ./bot/
COPY storage/ ./storage/

# The one deliberate difference from `make`: a regular (non-editable) install
# without the [dev] extra. An editable install would leave the venv pointing at
# /src, which is not in the runtime stage; [dev] only adds the test, lint and
# type-check tools (pytest, pytest-asyncio, hypothesis, ruff, mypy), not used to
# run the bot. The pinned versions come from the same requirements.lock.
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --quiet --upgrade pip \
 && /opt/venv/bin/pip install --quiet -c requirements.lock .

# ---- runtime: the venv, the config, a non-root user ---------------------------
FROM python:3.11-slim-bookworm AS runtime

# The package (with its data: bot/i18n/*.toml, bot/adapters/local/static/*,
# storage/migrations/**) lives in the venv's site-packages. The venv's
# interpreter links to /usr/local/bin/python3.11, the same in both stages.
COPY --from=builder /opt/venv /opt/venv

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    AMBASSADOR_HOST=0.0.0.0 \
    AMBASSADOR_PORT=3978

RUN groupadd --gid 10001 ambassador \
 && useradd --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin ambassador \
 && mkdir -p /app/var \
 && chown 10001:10001 /app/var

WORKDIR /app

# Read at start-up from the working directory (config/ambassador.toml, or the
# file named by AMBASSADOR_CONFIG). Owned by root: the bot only reads it.
COPY config/ ./config/

# Default DATABASE_URL is sqlite:///var/ambassador.db, relative to /app: keep it
# on a volume. Created and chowned above, before VOLUME, so a new named volume
# starts out writable by the ambassador user.
VOLUME /app/var

USER 10001:10001

EXPOSE 3978

# Liveness: `ambassador-bot health` asks this container's own /healthz (exit 0 on a 2xx,
# 1 otherwise; no curl in slim images). HEALTHCHECK is a Docker-format instruction: podman
# and buildah keep it only when building with `--format docker` (the OCI format drops it).
# The same command serves compose's healthcheck and Kubernetes exec probes, whatever built
# the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["ambassador-bot", "health"]

# Same sequence as `make run`: migrate, then serve (serve migrates again on
# start; that is a no-op). exec makes the bot PID 1, so `docker stop`'s SIGTERM
# reaches it and it shuts down cleanly.
CMD ["sh", "-c", "ambassador-bot migrate && exec ambassador-bot serve"]
