"""Benchmark models: the same ONNX file runs in ml-widgets (compiled) and in onnxruntime-web.

Run by bench/run.mjs when bench/build/ lacks a model (or alone, from the repository root):

    /usr/bin/python3 bench/make_models.py [name ...]

It needs numpy and onnx; torch and torchvision (the CNNs), scikit-learn and skl2onnx (random forest, SVC),
xgboost and onnxmltools (XGBoost). Converters installed outside site-packages are found through your
PYTHONPATH (e.g. PYTHONPATH=/path/to/vendor/python). A model whose packages are missing is skipped with a
message, and the bench leaves its row out. (/usr/bin/python3 is Debian's, which has torch; a pyenv python3
earlier on PATH may not.)

Writes bench/build/<name>.onnx and, for the classic models, bench/build/<name>.f32 (10 000 rows of
real feature vectors, tiled from the data set's rows, little-endian float32) so both runtimes see
realistic inputs (trees take different paths on random noise).

Weights are seeded; torchvision models use random weights (nothing can be downloaded here) with
BatchNorm statistics estimated from seeded noise (see torchvision_model).
Classic models are exported with options {zipmap: False}: onnxruntime's JavaScript bindings cannot
return ZipMap's sequence-of-maps output, and the benchmark runs the same file on both sides.
"""
import os
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

warnings.filterwarnings('ignore')
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'build')
ROWS = 10_000


def save(model, name):
    os.makedirs(OUT, exist_ok=True)
    onnx.save(model, os.path.join(OUT, name + '.onnx'))
    print('wrote', name)


def matmul(n):
    """C = A·B with B a constant: what a dense layer is, and what onnxruntime calls MatMul."""
    rng = np.random.RandomState(n)
    b = numpy_helper.from_array(rng.uniform(-1, 1, (n, n)).astype(np.float32), 'B')
    node = helper.make_node('MatMul', ['A', 'B'], ['C'])
    graph = helper.make_graph(
        [node], f'matmul{n}',
        [helper.make_tensor_value_info('A', TensorProto.FLOAT, ['N', n])],
        [helper.make_tensor_value_info('C', TensorProto.FLOAT, ['N', n])],
        [b])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), f'matmul{n}')


def torchvision_model(name):
    import torch
    import torchvision
    torch.manual_seed(0)
    net = getattr(torchvision.models, name)(weights=None)
    # torchvision's init with default BatchNorm statistics makes MobileNetV2's activations vanish
    # (logits ~1e-9: any comparison passes). Estimate the BatchNorm statistics from seeded noise, as
    # training would, so every layer carries O(1) values; the weights stay random.
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
    net.train()
    with torch.no_grad():
        for _ in range(4):
            net(torch.randn(8, 3, 224, 224))
    net.eval()
    path = os.path.join(OUT, name + '.onnx')
    os.makedirs(OUT, exist_ok=True)
    torch.onnx.export(net, torch.randn(1, 3, 224, 224), path, opset_version=13,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}})
    print('wrote', name)


def rows_file(X, name):
    reps = -(-ROWS // len(X))
    np.tile(X.astype('<f4'), (reps, 1))[:ROWS].tofile(os.path.join(OUT, name + '.f32'))


def classic(name):
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.svm import SVC
    from skl2onnx import to_onnx
    if name == 'rf100':
        X, y = load_breast_cancer(return_X_y=True)
        X = X.astype(np.float32)
        model = RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y)
        onx = to_onnx(model, X[:1], options={id(model): {'zipmap': False}})
    elif name == 'svc_rbf':
        X, y = load_digits(return_X_y=True)
        X = X.astype(np.float32)
        model = SVC(kernel='rbf', probability=True, random_state=0).fit(X, y)
        onx = to_onnx(model, X[:1], options={id(model): {'zipmap': False}})
    elif name == 'xgb':
        import xgboost
        from onnxmltools import convert_xgboost
        from onnxmltools.convert.common.data_types import FloatTensorType
        X, y = load_breast_cancer(return_X_y=True)
        X = X.astype(np.float32)
        model = xgboost.XGBClassifier(n_estimators=100, max_depth=6, random_state=0).fit(X, y)
        onx = convert_xgboost(model, initial_types=[('input', FloatTensorType([None, X.shape[1]]))])
        # onnxmltools leaves ZipMap out for XGBoost already; keep it that way if a version adds it.
    else:
        raise SystemExit(f'unknown model {name}')
    save(onx, name)
    rows_file(X, name)


MODELS = {
    'matmul64': lambda: matmul(64), 'matmul256': lambda: matmul(256), 'matmul512': lambda: matmul(512),
    'mobilenet_v2': lambda: torchvision_model('mobilenet_v2'),
    'squeezenet1_1': lambda: torchvision_model('squeezenet1_1'),
    'resnet18': lambda: torchvision_model('resnet18'),
    'rf100': lambda: classic('rf100'), 'xgb': lambda: classic('xgb'), 'svc_rbf': lambda: classic('svc_rbf'),
}

if __name__ == '__main__':
    for name in sys.argv[1:] or MODELS:
        try:
            MODELS[name]()
        except ImportError as err:
            print(f'skipped {name}: {err} (install it, or put it on PYTHONPATH)', file=sys.stderr)
