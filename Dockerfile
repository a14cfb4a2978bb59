FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
COPY . .
RUN python -m core.catalogs -q
RUN DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 DJANGO_SECRET_KEY=build \
    python manage.py collectstatic --noinput --verbosity 0
RUN useradd --create-home app && chown -R app /app
USER app
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
