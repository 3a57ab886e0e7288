"""Small ONNX graphs that cover every operator `qmulgen dnn` supports, with reference outputs
from onnxruntime, for the float-path tests (testbenches/onnx/NAME.onnx + NAME.npz with x, y).

Odd shapes, asymmetric pads, strides, dilations, auto_pad SAME_UPPER/SAME_LOWER/VALID,
count_include_pad, Gemm's alpha/beta/transB, MatMul + Add with broadcasting, Reshape from an
initializer and from a Constant, a weight reshaped from a flat initializer, BatchNormalization
after a Conv (folded) and on its own. Needs onnx, onnxruntime and numpy (the venv of
scripts/train_digits.py); not part of `make test`.
"""
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT = pathlib.Path(__file__).resolve().parent.parent / "testbenches" / "onnx"
rng = np.random.default_rng(7)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def save(name, nodes, inits, x_shape, y_name, batch):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", *x_shape])],
        [helper.make_tensor_value_info(y_name, TensorProto.FLOAT, [None, None])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = OUT / f"{name}.onnx"
    onnx.save(model, str(path))
    x = rng.standard_normal((batch, *x_shape)).astype(np.float32)
    y = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.savez(OUT / f"{name}.npz", x=x, y=y.astype(np.float32))
    print(name, x.shape, "->", y.shape)


def conv_case():
    """Conv with asymmetric pads, strides and dilations, BN folded, MaxPool with pads,
    auto_pad SAME_UPPER, AveragePool without counting pads, GlobalAveragePool, Gemm, Softmax."""
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 2],
                         pads=[1, 0, 2, 1], strides=[2, 1], dilations=[1, 2]),
        helper.make_node("BatchNormalization", ["c1", "g1", "be1", "m1", "v1"], ["n1"],
                         name="bn1", epsilon=1e-3),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2],
                         strides=[1, 1], pads=[0, 1, 1, 0]),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], name="conv2", kernel_shape=[3, 3],
                         strides=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("AveragePool", ["c2", ], ["a2"], name="avg2", kernel_shape=[2, 2],
                         pads=[1, 1, 0, 0], count_include_pad=0),
        helper.make_node("GlobalAveragePool", ["a2"], ["g2"], name="gap"),
        helper.make_node("Flatten", ["g2"], ["f2"], name="flat"),
        helper.make_node("Gemm", ["f2", "w3", "b3"], ["y3"], name="fc", transB=1,
                         alpha=0.5, beta=2.0),
        helper.make_node("Softmax", ["y3"], ["y"], name="softmax", axis=1),
    ]
    inits = [init("w1", rand(5, 2, 3, 2)), init("b1", rand(5)),
             init("g1", rand(5)), init("be1", rand(5)), init("m1", rand(5)),
             init("v1", np.abs(rand(5)) + 0.5),
             init("w2", rand(6, 5, 3, 3)), init("w3", rand(4, 6)), init("b3", rand(4))]
    save("conv", nodes, inits, [2, 9, 7], "y", 3)


def lower_case():
    """auto_pad SAME_LOWER and VALID, AveragePool counting pads, a weight from a Reshape of a
    flat initializer, Add broadcasting a [C,1,1] initializer, BatchNormalization on its own."""
    nodes = [
        helper.make_node("Reshape", ["w1flat", "w1shape"], ["w1"], name="w1reshape"),
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv_lower", kernel_shape=[2, 3],
                         strides=[2, 2], auto_pad="SAME_LOWER"),
        helper.make_node("Add", ["c1", "bias1"], ["s1"], name="add_bias"),
        helper.make_node("Relu", ["s1"], ["r1"], name="relu"),
        helper.make_node("AveragePool", ["r1"], ["a1"], name="avg_pads", kernel_shape=[3, 3],
                         strides=[1, 2], pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("BatchNormalization", ["a1", "g", "be", "m", "v"], ["n1"],
                         name="bn_alone", epsilon=1e-5),
        helper.make_node("Conv", ["n1", "w2", "b2"], ["c2"], name="conv_valid",
                         kernel_shape=[2, 2], auto_pad="VALID"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["p2"], name="pool_same", kernel_shape=[2, 2],
                         strides=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("Flatten", ["p2"], ["y"], name="flat", axis=1),
    ]
    inits = [init("w1flat", rand(4 * 3 * 2 * 3)), init("w1shape", np.array([4, 3, 2, 3])),
             init("bias1", rand(4, 1, 1)),
             init("g", rand(4)), init("be", rand(4)), init("m", rand(4)),
             init("v", np.abs(rand(4)) + 0.5),
             init("w2", rand(3, 4, 2, 2)), init("b2", rand(3))]
    save("lower", nodes, inits, [3, 10, 11], "y", 2)


def matmul_case():
    """MatMul with a weight, Add broadcasting a vector, Reshape from a Constant node and from
    an initializer, Add of two computed tensors, Gemm without transB."""
    shape_const = helper.make_node(
        "Constant", [], ["shape1"], name="shape_const",
        value=numpy_helper.from_array(np.array([1, 2, 3, 2], dtype=np.int64)))
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"], name="matmul"),
        helper.make_node("Add", ["m1", "b1"], ["s1"], name="add_vec"),
        helper.make_node("Relu", ["s1"], ["r1"], name="relu"),
        shape_const,
        helper.make_node("Reshape", ["r1", "shape1"], ["t1"], name="reshape_const"),
        helper.make_node("MaxPool", ["t1"], ["p1"], name="pool", kernel_shape=[2, 1],
                         strides=[1, 1]),
        helper.make_node("Reshape", ["p1", "shape2"], ["t2"], name="reshape_init"),
        helper.make_node("Add", ["t2", "t2"], ["d2"], name="add_self"),
        helper.make_node("Gemm", ["d2", "w3"], ["y3"], name="gemm", alpha=1.5),
        helper.make_node("Softmax", ["y3"], ["y"], name="softmax"),
    ]
    inits = [init("w1", rand(7, 12)), init("b1", rand(12)),
             init("shape2", np.array([1, -1])), init("w3", rand(8, 5))]
    save("matmul", nodes, inits, [7], "y", 1)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    conv_case()
    lower_case()
    matmul_case()
