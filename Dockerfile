# One image for every role: web (gunicorn), ws (daphne), worker and beat differ only in their command.
# Two stages: `build` installs the hashed lock file into a virtualenv and collects static files; the final
# stage copies only those results and the source (as filtered by .dockerignore), and runs as a non-root user.
FROM python:3.11-slim AS build

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# Every transitive dependency pinned and hash-checked: the image installs what CI tested, byte for byte.
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock

WORKDIR /src
COPY . .
# The hook client the server serves is built, not committed: the package and the pure rule modules in one file.
RUN /opt/venv/bin/python limiter/hook_client/build.py
# collectstatic needs no secrets: embedded settings generate throwaway keys in a directory of this stage only,
# which the final stage never copies.
RUN DJANGO_SETTINGS_MODULE=config.settings GOVERNOR_VAR_DIR=/tmp/build-var STATIC_ROOT=/src/staticfiles \
    /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 0


FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.production \
    GOVERNOR_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app governor
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Code and static files belong to root: the service can read but not rewrite them. Only var/ is writable.
COPY . .
COPY --from=build /src/staticfiles /app/staticfiles
COPY --from=build /src/limiter/hook_client/governor_hook.py /app/limiter/hook_client/governor_hook.py
RUN mkdir -p /app/var && chown governor:governor /app/var && chmod 0750 /app/var

USER governor
EXPOSE 8000 8001
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", \
     "--worker-class", "gthread", "--threads", "2", "--access-logfile", "-"]
