FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev
COPY . .
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-only DATABASE_URL=postgres://build@localhost/build \
    CELERY_BROKER_URL=redis://localhost:6379/0 python manage.py collectstatic --noinput
# The code stays root's; the runtime user owns only what the app writes: var/ (file cache and
# beat state when not configured elsewhere), beat's state and the export bundles (compose
# mounts volumes there, and a new named volume takes the owner of the folder it covers).
RUN useradd --system ecrf && mkdir -p /app/var /var/lib/ecrf/exports \
    && chown -R ecrf:ecrf /app/var /var/lib/ecrf
USER ecrf
EXPOSE 8000
