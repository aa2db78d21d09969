"""The job record and the request checks (no server, no queue)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from inference.jobs.model import (
    Area,
    Job,
    JobInvalid,
    JobKind,
    JobLimits,
    JobState,
    Report,
    check_placement,
    parse_request,
    shift_prompts,
)
from tests.inference.jobs.conftest import make_job

LIMITS = JobLimits(max_prompt_chars=20, max_steps=50, max_points=3)
MASK = {"mask": "a" * 64}


def test_states_are_str_enums_and_know_which_are_final() -> None:
    assert JobState("running") is JobState.RUNNING and str(JobState.DONE) == "done"
    assert [s.value for s in JobState if s.final] == ["done", "failed", "cancelled"]


def test_a_job_round_trips_through_plain_data() -> None:
    job = make_job(state=JobState.RUNNING, attempts=2, result={"blob": "c" * 64})
    assert Job.from_dict(job.to_dict()) == job
    assert job.layer_id == f"ai-{job.id}" and job.blobs == ["a" * 64, "b" * 64]
    view = job.public()
    assert view["state"] == "running" and view["layer_id"] is None and view["user"] == "ann"
    assert job.with_(state=JobState.DONE).public()["layer_id"] == job.layer_id


def test_a_fill_request_gets_defaults_and_a_seed_drawn_once() -> None:
    request = parse_request(JobKind.GENERATIVE_FILL, {**MASK, "prompt": "sky"}, LIMITS)
    params = request.params
    assert (params["steps"], params["guidance"], params["strength"]) == (30, 7.5, 0.99)
    assert isinstance(params["seed"], int) and 0 <= params["seed"] < 2**32
    assert request.mask == "a" * 64 and request.mask_png is None and request.region is None
    png = base64.b64encode(b"\x89PNG...").decode()
    with_png = parse_request(
        JobKind.GENERATIVE_FILL,
        {"mask_png": png, "seed": 7, "region": {"x": 1, "y": 2, "width": 8, "height": 9}},
        LIMITS,
    )
    assert with_png.mask_png == b"\x89PNG..." and with_png.params["seed"] == 7
    assert with_png.region == Area(1, 2, 8, 9)


@pytest.mark.parametrize(
    ("kind", "body", "named"),
    [
        (JobKind.GENERATIVE_FILL, {}, "give the mask either"),
        (JobKind.GENERATIVE_FILL, {**MASK, "mask_png": "x"}, "give the mask either"),
        (JobKind.GENERATIVE_FILL, {"mask": "ABC"}, "mask must be a blob's sha256"),
        (JobKind.GENERATIVE_FILL, {"mask_png": 5}, "base64-encoded PNG"),
        (JobKind.GENERATIVE_FILL, {**MASK, "prompt": "p" * 21}, "prompt must be at most 20"),
        (JobKind.GENERATIVE_FILL, {**MASK, "negative_prompt": 3}, "negative_prompt must be a str"),
        (JobKind.GENERATIVE_FILL, {**MASK, "steps": 51}, "steps must be an integer from 1 to 50"),
        (JobKind.GENERATIVE_FILL, {**MASK, "steps": 2.5}, "steps must be an integer"),
        (JobKind.GENERATIVE_FILL, {**MASK, "steps": True}, "steps must be an integer"),
        (JobKind.GENERATIVE_FILL, {**MASK, "guidance": 31}, "guidance must be a number from 0"),
        (JobKind.GENERATIVE_FILL, {**MASK, "strength": 0}, "strength must be a number"),
        (JobKind.GENERATIVE_FILL, {**MASK, "seed": -1}, "seed must be an integer"),
        (JobKind.GENERATIVE_FILL, {**MASK, "region": [1, 2]}, "region must be {x, y, width"),
        (
            JobKind.GENERATIVE_FILL,
            {**MASK, "region": {"x": 0, "y": 0, "width": 4, "height": 40}},
            "at least 8x8",
        ),
        (JobKind.SEGMENT, {}, "needs points, a box or both"),
        (JobKind.SEGMENT, {"points": [[1, 2]] * 4}, "at most 3"),
        (JobKind.SEGMENT, {"points": [[1]]}, "[x, y]"),
        (JobKind.SEGMENT, {"points": [[1, 2]], "point_labels": [2]}, "point_labels must be 0"),
        (JobKind.SEGMENT, {"points": [[1, 2]], "point_labels": [0]}, "at least one object point"),
        (JobKind.SEGMENT, {"points": [[1, 2]], "point_labels": []}, "0 labels for 1 point"),
        (
            JobKind.SEGMENT,
            {"points": [[1, 2]], "point_labels": [1, 0]},
            "point_labels: 2 labels for 1 point",
        ),
        (JobKind.SEGMENT, {"box": [1, 2, 3]}, "box must be [x0, y0, x1, y1]"),
        (JobKind.SEGMENT, {"box": [50, 2, 10, 30]}, "box [50, 2, 10, 30] is inverted: x1 (10)"),
        (JobKind.SEGMENT, {"box": [5, 30, 40, 2]}, "is inverted: y1 (2) < y0 (30)"),
        (JobKind.SEGMENT, {"box": [5, 5, 6, 30]}, "must cover at least 2x2 pixels, got 1x25"),
        (JobKind.SEGMENT, {"box": [0, 0, 9, 9], "layers": []}, "layers must be a list of 1"),
        (JobKind.SEGMENT, {"box": [0, 0, 9, 9], "layers": ["a", "a"]}, "names a layer twice"),
        (
            JobKind.REMOVE_BACKGROUND,
            {"layer_id": "a", "layers": ["b"]},
            "give layer_id ('a') or layers (['b']), not both",
        ),
        (JobKind.SEGMENT, {"box": [0, 0, 9, 9], "output": "x"}, "output must be 'cutout' or"),
        (JobKind.REMOVE_BACKGROUND, {"prompt": "x"}, "unknown field(s) 'prompt'"),
        (JobKind.REMOVE_BACKGROUND, {"layer_id": 5}, "layer_id must be a string"),
    ],
)
def test_bad_requests_name_the_field(kind: JobKind, body: dict[str, Any], named: str) -> None:
    with pytest.raises(JobInvalid) as caught:
        parse_request(kind, body, LIMITS)
    assert named in str(caught.value)


def test_placement_on_the_canvas() -> None:
    inside = parse_request(
        JobKind.GENERATIVE_FILL,
        {**MASK, "region": {"x": 10, "y": 10, "width": 90, "height": 40}},
        LIMITS,
    )
    check_placement(inside, 100, 50)
    with pytest.raises(JobInvalid, match="must lie inside the 99x50 canvas"):
        check_placement(inside, 99, 50)
    points = parse_request(JobKind.SEGMENT, {"points": [[99.5, 0]]}, LIMITS)
    check_placement(points, 100, 50)
    with pytest.raises(JobInvalid, match=r"point \(99.5, 0\)"):
        check_placement(points, 99, 50)
    box = parse_request(JobKind.SEGMENT, {"box": [10, 10, 100, 50]}, LIMITS)
    check_placement(box, 100, 50)
    with pytest.raises(JobInvalid, match=r"box \[10, 10, 100, 50\] must lie inside the 99x50"):
        check_placement(box, 99, 50)


def test_prompts_lie_in_the_region_and_move_into_it_for_the_pipeline() -> None:
    region = {"x": 40, "y": 20, "width": 30, "height": 30}
    body = {"points": [[45, 25]], "box": [41, 21, 70, 50], "region": region}
    request = parse_request(JobKind.SEGMENT, body, LIMITS)
    check_placement(request, 100, 60)
    outside = parse_request(JobKind.SEGMENT, {**body, "points": [[30, 25]]}, LIMITS)
    with pytest.raises(JobInvalid, match=r"point \(30, 25\) must lie inside the region \(40, 20"):
        check_placement(outside, 100, 60)
    # The pipeline sees the region's pixels; the job shows the canvas pixels asked for.
    local = shift_prompts(request.params, -40, -20)
    assert (local["points"], local["box"]) == ([[5.0, 5.0]], [1.0, 1.0, 30.0, 30.0])
    job = Job("j", JobKind.SEGMENT, "d", "u", "U", "b" * 64, params=local, x=40, y=20)
    assert job.canvas_params["points"] == [[45.0, 25.0]]
    assert job.public()["params"]["box"] == [41.0, 21.0, 70.0, 50.0]


def test_reports_parse_strictly() -> None:
    report = Report("j", 2, JobState.DONE, 100, result={"blob": "x"})
    assert Report.from_dict(report.to_dict()) == report
    for bad in (
        {"job_id": "j", "attempt": 1, "state": "queued"},
        {"job_id": "j", "attempt": 1, "state": "running", "progress": 101},
        {"job_id": "j", "attempt": "x", "state": "running"},
        {"job_id": "j", "attempt": 1, "state": "done", "result": [1]},
        {"attempt": 1, "state": "done"},
    ):
        with pytest.raises(JobInvalid):
            Report.from_dict(bad)
