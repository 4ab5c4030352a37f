FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --system --create-home --uid 10001 registry
COPY pyproject.toml README.md ./
COPY config ./config
COPY centers ./centers
COPY registry ./registry
COPY analytics ./analytics
COPY templates ./templates
COPY manage.py ./
RUN pip install . && mkdir -p /app/staticfiles /app/exports && chown registry /app/exports
# collectstatic needs settings but no database connection.
RUN DJANGO_MODE=production SECRET_KEY=build-only ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic --noinput
USER registry
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
