# Production image: `docker build -t huhuqing .` then
# `docker run -e HUHUQING_BOT_TOKEN=... -v huhuqing-data:/app/data huhuqing`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

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
