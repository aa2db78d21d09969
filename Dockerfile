FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY collab ./collab
COPY persistence ./persistence
COPY client ./client
COPY inference ./inference
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["nexus-canvas", "serve", "--host", "0.0.0.0", "--port", "8000"]
