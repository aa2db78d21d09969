"""AI jobs: the job record and its states, the queue (in-process or Redis Streams), the
runner that turns a job into a layer image, and the worker loop. See docs/inference.md#jobs.
"""
