# The hub as one image; docker-compose.yml runs two of it behind nginx.
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /app --create-home hub
USER hub
WORKDIR /app
EXPOSE 8000
# `exec` hands PID 1 to uvicorn, so `docker stop` reaches it and it drains connections.
CMD ["sh", "-c", "coalition-hub migrate && exec coalition-hub serve --host 0.0.0.0 --port 8000"]
