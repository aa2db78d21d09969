"""Pixels: image validation and decoding, the compositor, and the pool that runs renders off
the event loop.

- :mod:`collab.render.images`: PNG/JPEG/WebP validation with size limits; decoding to RGBA.
- :mod:`collab.render.compositor`: a document (or a layer, or a region) to RGBA pixels.
- :mod:`collab.render.blend`: the 11 blend modes Skia lacks, vectorized with numpy.
- :mod:`collab.render.strokes`: paint-layer strokes with Skia.
- :mod:`collab.render.tasks`: picklable render jobs (export, thumbnail, layer) and encoding.
- :mod:`collab.render.pool`: worker processes (or threads) that run those jobs.
"""
