"""AI inference workers (generative fill, segmentation, background removal).

Arrives with the AI-jobs issue; the package exists so the layout matches the design.
"""
