# One image for every role: web (gunicorn), ws (daphne), worker and beat differ only in their command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.production \
    GOVERNOR_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
RUN useradd --system --uid 10001 --home-dir /app governor
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# The hook client the server serves is built, not committed: the package and the pure rule modules in one file.
RUN python limiter/hook_client/build.py
# collectstatic needs no secrets: the embedded settings generate a throwaway key under var/.
RUN DJANGO_SETTINGS_MODULE=config.settings python manage.py collectstatic --noinput \
    && rm -rf /app/var && mkdir -p /app/var && chown -R governor /app/var

USER governor
EXPOSE 8000 8001
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", \
     "--worker-class", "gthread", "--threads", "2", "--access-logfile", "-"]
