# Production image: `docker build -t huhuqing .` then
# `docker run -e HUHUQING_BOT_TOKEN=... -v huhuqing-data:/app/data huhuqing`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# pg_dump for `huhuqing db backup` on PostgreSQL (Debian 12's client is 15: keep the server at 15
# or below, as compose.yaml does; a newer server needs a newer client).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY knowledge knowledge
COPY grievances grievances
COPY db db
COPY locales locales
# Editable: the code runs from /app, next to locales/ (outside the packages).
RUN pip install -e . && pybabel compile -d locales -D messages \
    && useradd --create-home --uid 1000 huhuqing && mkdir -p data && chown huhuqing data

USER huhuqing
VOLUME ["/app/data"]
# Migrations first: the bot itself refuses to start on an outdated schema.
CMD ["sh", "-c", "huhuqing db upgrade && exec huhuqing run"]
