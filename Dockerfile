# Production image: `docker build -t huhuqing .` then
# `docker run -e HUHUQING_BOT_TOKEN=... -v huhuqing-data:/app/data huhuqing`.
# README.md, "Connecting a real bot", says how to load regions and households in a container.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# pg_dump for `huhuqing db backup` on PostgreSQL (Debian 12's client is 15: keep the server at 15
# or below, as compose.yaml does; a newer server needs a newer client).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# The locked dependencies (`make lock` writes requirements.lock from pyproject.toml), before the
# source: a change to the code reuses this layer instead of installing everything again.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

# The project is built in /src and installed into site-packages; /app keeps only the data.
COPY pyproject.toml setup.py README.md /src/
COPY bot /src/bot
COPY handlers /src/handlers
COPY knowledge /src/knowledge
COPY grievances /src/grievances
COPY db /src/db
COPY locales /src/locales
# setup.py compiles the catalogs into the build; its requirements (setuptools, Babel) are locked.
RUN pip install --no-deps --no-build-isolation /src && rm -rf /src \
    && useradd --create-home --uid 1000 huhuqing && mkdir -p data && chown huhuqing data

USER huhuqing
VOLUME ["/app/data"]
# 8080: `huhuqing run --webhook` (HUHUQING_WEBHOOK_LISTEN); 9090: /metrics and /healthz in
# either mode (HUHUQING_METRICS_PORT; the webhook's port serves them too).
ENV HUHUQING_METRICS_PORT=9090
EXPOSE 8080 9090
# /healthz answers 200 while the database (and Redis, when used) answer; set
# HUHUQING_METRICS_PORT= (empty) to check the webhook's own port instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["python", "-c", \
    "import os, urllib.request; port = os.environ.get('HUHUQING_METRICS_PORT') or os.environ.get('HUHUQING_WEBHOOK_LISTEN', ':8080').rpartition(':')[2]; urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4)"]
# Migrations first: the bot itself refuses to start on an outdated schema.
CMD ["sh", "-c", "huhuqing db upgrade && exec huhuqing run"]
