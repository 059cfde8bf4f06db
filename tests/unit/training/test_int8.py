from types import SimpleNamespace

from training.export import float_kept_nodes


def node(op_type: str, name: str) -> SimpleNamespace:
    return SimpleNamespace(op_type=op_type, name=name)


def test_the_first_convolution_and_the_classifier_stay_float() -> None:
    graph = [
        node("ReduceMean", "standardise"),
        node("Conv", "stem1"),
        node("Relu", "stem1_relu"),
        node("Conv", "stem2"),
        node("Conv", "block"),
        node("Gemm", "logits"),
        node("Softmax", "probabilities"),
    ]
    assert float_kept_nodes(graph) == ["stem1", "logits"]


def test_a_graph_without_a_dense_head_keeps_only_its_first_convolution() -> None:
    assert float_kept_nodes([node("Conv", "a"), node("Conv", "b"), node("Relu", "r")]) == ["a"]
