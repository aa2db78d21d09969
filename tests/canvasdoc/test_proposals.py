"""The proposal state of a layer: written and validated by the writers, read tolerantly (a
foreign value reads as "not a proposal"), accepted and discarded, merged across replicas."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Array, Doc, Map

from canvasdoc.canvas import (
    Canvas,
    LayerNotFound,
    NotAProposal,
    SchemaError,
    validate_proposal,
)

PROPOSAL = {"job_id": "j1", "user": "ann", "name": "Ann", "at": 1700000000000}


def _canvas() -> Canvas:
    return Canvas(Doc())


def _sync(a: Doc[Any], b: Doc[Any]) -> None:
    a.apply_update(b.get_update(a.get_state()))
    b.apply_update(a.get_update(b.get_state()))


def test_a_proposal_is_written_read_and_shared_as_a_map() -> None:
    canvas = _canvas()
    base = canvas.add_layer("Photo")
    staged = canvas.add_layer("Fill: sofa", proposal=PROPOSAL, provenance={"job_id": "j1"})
    assert canvas.get_layer(staged).proposal == PROPOSAL
    assert canvas.get_layer(staged).is_proposal
    assert not canvas.get_layer(base).is_proposal and canvas.get_layer(base).proposal is None
    # Stored as a Map any Yjs client can observe, next to the other fields.
    stored = canvas.layers_array[1]
    assert isinstance(stored.get("proposal"), Map) and "proposal" not in canvas.layers_array[0]
    replica = _canvas()
    _sync(replica.doc, canvas.doc)
    assert replica.get_layer(staged).proposal == PROPOSAL
    assert canvas.to_dict()["layers"][1]["proposal"] == PROPOSAL


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("yes", "'yes'"),
        (True, "True"),
        (["j1"], "['j1']"),
        ({"job_id": 5}, "{'job_id': 5}"),
        ({"job_id": ""}, "{'job_id': ''}"),
        ({"job_id": "j", "score": float("nan")}, "nan"),
        ({1: "x"}, "{1: 'x'}"),
        ({"job_id": "j", "blob": b"raw"}, "b'raw'"),
    ],
)
def test_writers_refuse_a_bad_proposal_naming_it(value: object, named: str) -> None:
    canvas = _canvas()
    with pytest.raises(SchemaError) as caught:
        canvas.add_layer("x", proposal=value)  # type: ignore[arg-type]
    assert caught.value.field == "proposal" and named in str(caught.value)
    assert "job_id a non-empty string" in str(caught.value)
    assert canvas.layer_ids() == []
    layer = canvas.add_layer("y")
    with pytest.raises(SchemaError):
        canvas.update_layer(layer, proposal=value)
    assert not canvas.get_layer(layer).is_proposal


def test_valid_proposals_are_copied() -> None:
    given: dict[str, Any] = {"job_id": None, "tags": ["a", 1], "nested": {"k": True}}
    copied = validate_proposal(given)
    assert copied == given and copied is not given and copied["tags"] is not given["tags"]
    assert validate_proposal({}) == {} and validate_proposal(None) is None


def test_foreign_values_read_as_not_a_proposal() -> None:
    doc: Doc[Any] = Doc()
    layers = doc.get("layers", type=Array)
    foreign = {
        "string": "yes",
        "number": 1,
        "bad-job": Map({"job_id": 7}),
        "array": Array(["j"]),
        "null": None,
    }
    with doc.transaction():
        for layer_id, value in foreign.items():
            layers.append(Map({"id": layer_id, "name": layer_id, "proposal": value}))
        layers.append(Map({"id": "plain", "proposal": {"job_id": "p"}}))  # a JSON object
        layers.append(Map({"id": "nested", "proposal": Map({"job_id": "n", "m": Map({"a": 1})})}))
    canvas = Canvas(doc)
    read = {layer.id: layer.proposal for layer in canvas.read_layers()}
    assert {k: read[k] for k in foreign} == dict.fromkeys(foreign)
    assert read["plain"] == {"job_id": "p"} and read["nested"] == {"job_id": "n", "m": {"a": 1}}
    # Only a readable proposal can be accepted; a foreign value is an ordinary layer.
    with pytest.raises(NotAProposal):
        canvas.accept_proposal("string")
    canvas.accept_proposal("plain")
    assert not canvas.get_layer("plain").is_proposal


def test_accept_removes_the_state_and_discard_removes_the_layer() -> None:
    canvas = _canvas()
    base = canvas.add_layer("Photo")
    first = canvas.add_layer("Fill 1", proposal=PROPOSAL)
    second = canvas.add_layer("Fill 2", proposal={"job_id": "j2"})
    canvas.accept_proposal(first)
    assert not canvas.get_layer(first).is_proposal
    assert "proposal" not in canvas.layers_array[1]
    canvas.discard_proposal(second)
    assert canvas.layer_ids() == [base, first]

    with pytest.raises(NotAProposal) as caught:
        canvas.accept_proposal(first)  # accepted already
    assert "'Fill 1'" in str(caught.value) and "not a proposal" in str(caught.value)
    with pytest.raises(NotAProposal):
        canvas.discard_proposal(base)  # an ordinary layer is never removed by a discard
    with pytest.raises(LayerNotFound):
        canvas.accept_proposal("gone")
    with pytest.raises(LayerNotFound):
        canvas.discard_proposal("gone")
    assert canvas.layer_ids() == [base, first]


def test_update_layer_stages_and_clears() -> None:
    canvas = _canvas()
    layer = canvas.add_layer("Hand-made")
    canvas.update_layer(layer, proposal={"job_id": "manual"})
    assert canvas.get_layer(layer).proposal == {"job_id": "manual"}
    canvas.update_layer(layer, proposal=None)
    assert not canvas.get_layer(layer).is_proposal


def test_concurrent_accept_and_discard_converge() -> None:
    """One replica accepts while another discards: the removal wins on both."""
    a, b = _canvas(), _canvas()
    layer = a.add_layer("Fill", proposal=PROPOSAL)
    _sync(a.doc, b.doc)
    a.accept_proposal(layer)
    b.discard_proposal(layer)
    _sync(a.doc, b.doc)
    assert a.layer_ids() == b.layer_ids() == []


def test_a_moved_proposal_stays_a_proposal() -> None:
    canvas = _canvas()
    canvas.add_layer("Photo", layer_id="photo")
    layer = canvas.add_layer("Fill", proposal=PROPOSAL)
    canvas.move_layer(layer, 0)
    assert canvas.layer_ids() == [layer, "photo"]
    assert canvas.get_layer(layer).proposal == PROPOSAL
