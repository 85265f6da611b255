// Resampling and rearranging ops through our compiler and runtime against onnxruntime-node, where ONNX's
// node tests (opset 17, exact shapes) do not reach: Resize-18/19 (axes, keep_aspect_ratio_policy,
// half_pixel_symmetric), integer tensors, symbolic heights and widths (scales the compiler follows as sizes,
// scales it must compute per call, sizes from Shape arithmetic), channels-last images between convolutions,
// crops with axes, Upsample-7, Tile with repeats from data, DepthToSpace on bytes, GridSample, RoiAlign and
// MaxUnpool variants; then bad input: the error, its code and its words, and the model still working after.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadApi, compileAndLoad, mismatch } from './helpers.mjs';
import { float, floats, model, ortOutputs, randomTensor, runFeeds, tensor } from './onnx-graph.mjs';

const TOL = { atol: 1e-5, rtol: 1e-5 };

/** Our outputs must have ORT's names, dtypes and shapes; floats within TOL, the rest exactly. */
function compare(ours, theirs, what) {
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort(), `${what}: output names`);
  for (const [name, t] of Object.entries(theirs)) {
    const o = ours[name];
    assert.deepEqual(o.shape, t.shape, `${what}: ${name} shape`);
    assert.equal(o.dtype, t.dtype, `${what}: ${name} dtype`);
    assert.ok(o.data.length > 0 || t.data.length === 0, `${what}: ${name} is empty`);
    if (t.dtype === 'float32') {
      const m = mismatch(o.data, t.data, TOL);
      assert.equal(m, null, `${what}: ${name}: ${m}`);
    } else {
      assert.deepEqual(Array.from(o.data), Array.from(t.data), `${what}: ${name}`);
    }
  }
}

const x4 = (dims, seed, dtype = 'float32') => randomTensor(dtype, dims, seed);
/** A Resize-18 model over graph inputs [[name, dtype, dims]]; a null dims leaves that operand out. */
const resize = (inputs, attrs) => ({
  opset: 18,
  inputs: inputs.filter((i) => i[2]),
  outputs: [['Y', inputs[0][1]]],
  nodes: [{ op: 'Resize', inputs: inputs.map((i) => (i[2] ? i[0] : '')), outputs: ['Y'], attrs }],
});

/**
 * Each case: a model, compile options, and calls (feeds by input name). Inputs that are initializers in
 * one variant are graph inputs in another, so both the compile-time and the run-time paths are taken.
 */
const CASES = [
  {
    name: 'Resize-18 linear, scales for axes [3, 2] (scales as an initializer)',
    model: {
      opset: 18,
      inputs: [['X', 'float32', [1, 2, 5, 7]]],
      outputs: [['Y', 'float32']],
      nodes: [{ op: 'Resize', inputs: ['X', '', 's'], outputs: ['Y'], attrs: { mode: 'linear', axes: [3, 2] } }],
      inits: { s: tensor('float32', [2], [1.5, 0.6]) },
    },
    calls: [{ X: x4([1, 2, 5, 7], 'a') }],
  },
  {
    name: 'Resize-18 cubic, scales for axes [3, 2] given at run time',
    model: resize(
      [
        ['X', 'float32', [1, 2, 5, 7]],
        ['roi', 'float32', null],
        ['scales', 'float32', [2]],
      ],
      { mode: 'cubic', axes: [3, 2] },
    ),
    calls: [
      { X: x4([1, 2, 5, 7], 'b'), scales: tensor('float32', [2], [1.5, 0.6]) },
      { X: x4([1, 2, 5, 7], 'c'), scales: tensor('float32', [2], [0.5, 2.25]) },
    ],
  },
  ...['not_larger', 'not_smaller'].flatMap((policy) => [
    {
      name: `Resize-18 keep_aspect_ratio_policy ${policy}, sizes for axes [2, 3] as an initializer`,
      model: {
        opset: 18,
        inputs: [['X', 'float32', [1, 3, 4, 6]]],
        outputs: [['Y', 'float32']],
        nodes: [
          {
            op: 'Resize',
            inputs: ['X', '', '', 'sizes'],
            outputs: ['Y'],
            attrs: { mode: 'linear', axes: [2, 3], keep_aspect_ratio_policy: policy },
          },
        ],
        inits: { sizes: tensor('int64', [2], [7, 8]) },
      },
      calls: [{ X: x4([1, 3, 4, 6], 'd') }],
    },
    {
      name: `Resize-18 keep_aspect_ratio_policy ${policy}, sizes at run time, symbolic height and width`,
      model: resize(
        [
          ['X', 'float32', [1, 2, 'H', 'W']],
          ['roi', 'float32', null],
          ['scales', 'float32', null],
          ['sizes', 'int64', [2]],
        ],
        { mode: 'nearest', axes: [2, 3], keep_aspect_ratio_policy: policy },
      ),
      calls: [
        { X: x4([1, 2, 4, 6], 'e'), sizes: tensor('int64', [2], [7, 8]) },
        { X: x4([1, 2, 9, 3], 'f'), sizes: tensor('int64', [2], [5, 5]) },
      ],
    },
  ]),
  {
    name: 'Resize-19 linear half_pixel_symmetric, downsampling and upsampling',
    model: {
      opset: 19,
      inputs: [['X', 'float32', [1, 1, 6, 5]]],
      outputs: [['Y', 'float32']],
      nodes: [
        {
          op: 'Resize',
          inputs: ['X', '', 's'],
          outputs: ['Y'],
          attrs: { mode: 'linear', coordinate_transformation_mode: 'half_pixel_symmetric' },
        },
      ],
      inits: { s: tensor('float32', [4], [1, 1, 0.7, 1.6]) },
    },
    calls: [{ X: x4([1, 1, 6, 5], 'g') }],
  },
  ...[
    ['uint8', 'pytorch_half_pixel', 'round_prefer_ceil'],
    ['int8', 'align_corners', 'floor'],
    ['int32', 'asymmetric', 'ceil'],
    ['int64', 'half_pixel', 'round_prefer_floor'],
    ['bool', 'half_pixel', 'round_prefer_ceil'],
  ].map(([dtype, coord, nearest]) => ({
    name: `Resize-13 nearest of ${dtype} (${coord}, ${nearest}), sizes as an initializer`,
    model: {
      opset: 13,
      inputs: [['X', dtype, [2, 3, 5]]],
      outputs: [['Y', dtype]],
      nodes: [
        {
          op: 'Resize',
          inputs: ['X', '', '', 'sizes'],
          outputs: ['Y'],
          attrs: { mode: 'nearest', coordinate_transformation_mode: coord, nearest_mode: nearest },
        },
      ],
      inits: { sizes: tensor('int64', [3], [2, 7, 3]) },
    },
    calls: [{ X: x4([2, 3, 5], `h-${dtype}`, dtype) }],
    // onnxruntime has no int64 or bool Resize: the same values as float32 are its oracle (nearest picks).
    oracleAs: dtype === 'int64' || dtype === 'bool' ? 'float32' : undefined,
  })),
  ...[
    [
      'nearest (PP-OCR: asymmetric, floor), scales 2',
      { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
      [1, 1, 2, 2],
    ],
    ['linear, scales 0.5', { mode: 'linear' }, [1, 1, 0.5, 0.5]],
    ['cubic, scales 1.5 and 0.75 (computed lengths)', { mode: 'cubic' }, [1, 1, 1.5, 0.75]],
  ].map(([what, attrs, scales]) => ({
    name: `Resize-13 ${what} on symbolic height and width`,
    model: {
      opset: 13,
      inputs: [['X', 'float32', ['N', 3, 'H', 'W']]],
      outputs: [['Y', 'float32']],
      nodes: [{ op: 'Resize', inputs: ['X', '', 's'], outputs: ['Y'], attrs }],
      inits: { s: tensor('float32', [4], scales) },
    },
    compile: { dims: { H: '..40', W: '..40' } },
    calls: [{ X: x4([1, 3, 8, 12], 'i') }, { X: x4([2, 3, 5, 7], 'j') }, { X: x4([1, 3, 40, 33], 'k') }],
  })),
  {
    name: 'Resize-13 linear align_corners with sizes from Shape arithmetic (2·H, 2·W), as PyTorch exports',
    model: {
      opset: 13,
      inputs: [['X', 'float32', [1, 3, 'H', 'W']]],
      outputs: [['Y', 'float32']],
      nodes: [
        { op: 'Shape', inputs: ['X'], outputs: ['shape'] },
        { op: 'Slice', inputs: ['shape', 'two', 'four'], outputs: ['hw'] },
        { op: 'Mul', inputs: ['hw', 'two'], outputs: ['hw2'] },
        { op: 'Slice', inputs: ['shape', 'zero', 'two'], outputs: ['nc'] },
        { op: 'Concat', inputs: ['nc', 'hw2'], outputs: ['sizes'], attrs: { axis: 0 } },
        {
          op: 'Resize',
          inputs: ['X', '', '', 'sizes'],
          outputs: ['Y'],
          attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
        },
      ],
      inits: {
        zero: tensor('int64', [1], [0]),
        two: tensor('int64', [1], [2]),
        four: tensor('int64', [1], [4]),
      },
    },
    calls: [{ X: x4([1, 3, 4, 5], 'l') }, { X: x4([1, 3, 7, 2], 'm') }],
  },
  ...[
    ['linear', [1, 1, 2, 2]],
    ['cubic', [1, 1, 1.5, 2]],
    ['nearest', [1, 1, 3, 0.5]],
  ].map(([mode, scales]) => ({
    name: `Resize-13 ${mode} between convolutions (channels-last images), symbolic height and width`,
    model: {
      opset: 13,
      inputs: [['X', 'float32', [1, 3, 'H', 'W']]],
      outputs: [['Y', 'float32']],
      nodes: [
        { op: 'Conv', inputs: ['X', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
        { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
        { op: 'Resize', inputs: ['r1', '', 's'], outputs: ['up'], attrs: { mode } },
        { op: 'Conv', inputs: ['up', 'w2'], outputs: ['Y'], attrs: { kernel_shape: [1, 1] } },
      ],
      inits: {
        w1: randomTensor('float32', [5, 3, 3, 3], 'w1', -0.5, 0.5),
        b1: randomTensor('float32', [5], 'b1', -0.5, 0.5),
        w2: randomTensor('float32', [2, 5, 1, 1], 'w2', -0.5, 0.5),
        s: tensor('float32', [4], scales),
      },
    },
    compile: { dims: { H: '..24', W: '..24' } },
    calls: [{ X: x4([1, 3, 6, 8], 'n') }, { X: x4([1, 3, 11, 5], 'o') }],
  })),
  {
    name: 'Resize-18 tf_crop_and_resize with axes [2, 3], roi and sizes as initializers, extrapolation_value',
    model: {
      opset: 18,
      inputs: [['X', 'float32', [1, 2, 6, 7]]],
      outputs: [['Y', 'float32']],
      nodes: [
        {
          op: 'Resize',
          inputs: ['X', 'roi', '', 'sizes'],
          outputs: ['Y'],
          attrs: {
            mode: 'linear',
            coordinate_transformation_mode: 'tf_crop_and_resize',
            axes: [2, 3],
            extrapolation_value: float(10),
          },
        },
      ],
      inits: { roi: tensor('float32', [4], [-0.1, 0.2, 0.9, 1.3]), sizes: tensor('int64', [2], [5, 6]) },
    },
    calls: [{ X: x4([1, 2, 6, 7], 'p') }],
  },
  {
    name: 'Resize-13 cubic A=-0.5, exclude_outside, pytorch_half_pixel; roi at run time is ignored',
    model: {
      opset: 13,
      inputs: [
        ['X', 'float32', [1, 2, 9, 4]],
        ['roi', 'float32', [8]],
        ['sizes', 'int64', [4]],
      ],
      outputs: [['Y', 'float32']],
      nodes: [
        {
          op: 'Resize',
          inputs: ['X', 'roi', '', 'sizes'],
          outputs: ['Y'],
          attrs: {
            mode: 'cubic',
            cubic_coeff_a: float(-0.5),
            exclude_outside: 1,
            coordinate_transformation_mode: 'pytorch_half_pixel',
          },
        },
      ],
    },
    calls: [
      {
        X: x4([1, 2, 9, 4], 'q'),
        roi: tensor('float32', [8], [0, 0, 0, 0, 1, 1, 1, 1]),
        sizes: tensor('int64', [4], [1, 2, 4, 1]),
      },
    ],
  },
  {
    name: 'Upsample-7 linear (scales attribute) and Upsample-9 nearest (scales at run time)',
    model: {
      opset: 7,
      inputs: [['X', 'float32', [1, 2, 3, 4]]],
      outputs: [['Y', 'float32']],
      nodes: [
        { op: 'Upsample', inputs: ['X'], outputs: ['Y'], attrs: { mode: 'linear', scales: floats([1, 1, 2, 1.5]) } },
      ],
    },
    calls: [{ X: x4([1, 2, 3, 4], 'r') }],
  },
  {
    name: 'Upsample-9 nearest, scales at run time',
    model: {
      opset: 9,
      inputs: [
        ['X', 'float32', [1, 2, 3, 4]],
        ['scales', 'float32', [4]],
      ],
      outputs: [['Y', 'float32']],
      nodes: [{ op: 'Upsample', inputs: ['X', 'scales'], outputs: ['Y'] }],
    },
    calls: [{ X: x4([1, 2, 3, 4], 's'), scales: tensor('float32', [4], [1, 2, 2.5, 1]) }],
  },
  {
    name: 'Resize-10 linear (asymmetric), scales at run time',
    model: {
      opset: 10,
      inputs: [
        ['X', 'float32', [1, 1, 4, 5]],
        ['scales', 'float32', [4]],
      ],
      outputs: [['Y', 'float32']],
      nodes: [{ op: 'Resize', inputs: ['X', 'scales'], outputs: ['Y'], attrs: { mode: 'linear' } }],
    },
    calls: [{ X: x4([1, 1, 4, 5], 't'), scales: tensor('float32', [4], [1, 1, 0.5, 1.8]) }],
  },
  {
    name: 'Tile with repeats at run time on symbolic dims (float32 and int64)',
    model: {
      opset: 13,
      inputs: [
        ['X', 'float32', ['A', 3]],
        ['L', 'int64', [2, 'B']],
        ['repeats', 'int64', [2]],
      ],
      outputs: [
        ['Y', 'float32'],
        ['Z', 'int64'],
      ],
      nodes: [
        { op: 'Tile', inputs: ['X', 'repeats'], outputs: ['Y'] },
        { op: 'Tile', inputs: ['L', 'repeats'], outputs: ['Z'] },
      ],
    },
    compile: { dims: { A: '..8', B: '..8' } },
    calls: [
      { X: x4([2, 3], 'u'), L: x4([2, 4], 'v', 'int64'), repeats: tensor('int64', [2], [3, 2]) },
      { X: x4([5, 3], 'w'), L: x4([2, 1], 'x', 'int64'), repeats: tensor('int64', [2], [1, 0]) },
    ],
  },
  {
    name: 'Tile of bool with constant repeats',
    model: {
      opset: 13,
      inputs: [['X', 'bool', [2, 3, 1]]],
      outputs: [['Y', 'bool']],
      nodes: [{ op: 'Tile', inputs: ['X', 'r'], outputs: ['Y'] }],
      inits: { r: tensor('int64', [3], [2, 1, 5]) },
    },
    calls: [{ X: x4([2, 3, 1], 'y', 'bool') }],
  },
  {
    name: 'DepthToSpace CRD on uint8, SpaceToDepth on symbolic height and width',
    model: {
      opset: 13,
      inputs: [
        ['X', 'uint8', [2, 8, 3, 2]],
        ['Z', 'float32', [1, 2, 'H', 'W']],
      ],
      outputs: [
        ['Y', 'uint8'],
        ['S', 'float32'],
      ],
      nodes: [
        { op: 'DepthToSpace', inputs: ['X'], outputs: ['Y'], attrs: { blocksize: 2, mode: 'CRD' } },
        { op: 'SpaceToDepth', inputs: ['Z'], outputs: ['S'], attrs: { blocksize: 3 } },
      ],
    },
    compile: { dims: { H: '..30', W: '..30' } },
    calls: [
      { X: x4([2, 8, 3, 2], 'z', 'uint8'), Z: x4([1, 2, 6, 9], 'aa') },
      { X: x4([2, 8, 3, 2], 'ab', 'uint8'), Z: x4([1, 2, 3, 3], 'ac') },
    ],
  },
  ...[
    [16, 'bicubic', 'reflection', 1],
    [16, 'nearest', 'border', 0],
    [20, 'linear', 'zeros', 0],
    [20, 'cubic', 'border', 1],
  ].map(([opset, mode, padding, align]) => ({
    name: `GridSample-${opset} ${mode}, ${padding} padding, align_corners ${align}`,
    model: {
      opset,
      inputs: [
        ['X', 'float32', [2, 3, 5, 6]],
        ['grid', 'float32', [2, 4, 7, 2]],
      ],
      outputs: [['Y', 'float32']],
      nodes: [
        {
          op: 'GridSample',
          inputs: ['X', 'grid'],
          outputs: ['Y'],
          attrs: { mode, padding_mode: padding, align_corners: align },
        },
      ],
    },
    calls: [{ X: x4([2, 3, 5, 6], 'ad'), grid: randomTensor('float32', [2, 4, 7, 2], `ae-${mode}`, -1.3, 1.3) }],
  })),
  ...[
    [10, { mode: 'max', output_height: 3, output_width: 2, sampling_ratio: 2 }],
    [16, { output_height: 2, output_width: 4, spatial_scale: float(0.5) }],
    [16, { mode: 'max', coordinate_transformation_mode: 'output_half_pixel', output_height: 3, output_width: 3 }],
  ].map(([opset, attrs], k) => ({
    name: `RoiAlign-${opset} ${JSON.stringify(attrs)}`,
    model: {
      opset,
      inputs: [
        ['X', 'float32', [2, 3, 8, 9]],
        ['rois', 'float32', [3, 4]],
        ['batch_indices', 'int64', [3]],
      ],
      outputs: [['Y', 'float32']],
      nodes: [{ op: 'RoiAlign', inputs: ['X', 'rois', 'batch_indices'], outputs: ['Y'], attrs }],
    },
    calls: [
      {
        X: x4([2, 3, 8, 9], `af${k}`),
        rois: tensor('float32', [3, 4], [0.5, 1, 6.2, 7.5, 2, 0, 3, 2.5, -1, 3.5, 12, 6]),
        batch_indices: tensor('int64', [3], [1, 0, 1]),
      },
    ],
  })),
];

describe('resampling and rearranging ops against onnxruntime-node', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });
  for (const c of CASES) {
    test(c.name, async () => {
      const bytes = model(c.model);
      const { model: ours } = await compileAndLoad(api, bytes, c.compile);
      for (const [k, feeds] of c.calls.entries()) {
        const got = runFeeds(ours, feeds);
        if (!c.oracleAs) {
          compare(got, await ortOutputs(bytes, feeds), `call ${k}`);
          continue;
        }
        const as = (t) => ({ ...t, dtype: c.oracleAs, data: Float32Array.from(t.data, Number) });
        const retyped = (ios) =>
          ios.map(([name, dtype, dims]) => [name, dtype === 'float32' ? dtype : c.oracleAs, dims]);
        const oracle = model({ ...c.model, inputs: retyped(c.model.inputs), outputs: retyped(c.model.outputs) });
        const theirs = await ortOutputs(oracle, Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, as(t)])));
        const mine = Object.fromEntries(Object.entries(got).map(([n, t]) => [n, as(t)]));
        for (const [n, t] of Object.entries(got)) assert.equal(t.dtype, c.model.outputs[0][1], `${n} dtype`);
        compare(mine, theirs, `call ${k} (as ${c.oracleAs})`);
      }
    });
  }
});

describe('MaxUnpool against onnxruntime-node, and output_shape as ONNX defines it', () => {
  const attrs = { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] };
  const bytes = model({
    opset: 11,
    inputs: [
      ['X', 'float32', [1, 2, 3, 3]],
      ['I', 'int64', [1, 2, 3, 3]],
    ],
    outputs: [
      ['Y', 'float32'],
      ['Z', 'float32'],
    ],
    nodes: [
      { op: 'MaxUnpool', inputs: ['X', 'I'], outputs: ['Y'], attrs },
      { op: 'MaxUnpool', inputs: ['X', 'I', 'shape'], outputs: ['Z'], attrs },
    ],
    inits: { shape: tensor('int64', [4], [1, 2, 6, 7]) },
  });
  // Indices into the unpooled [1, 2, 5, 5] ((3 − 1)·2 − 2 + 3 = 5), distinct, as MaxPool gives them.
  const feeds = {
    X: x4([1, 2, 3, 3], 'ag'),
    I: tensor('int64', [1, 2, 3, 3], [0, 2, 4, 10, 12, 14, 20, 22, 24, 26, 28, 29, 36, 37, 39, 46, 48, 49]),
  };
  test('the unpooled tensor matches onnxruntime; with output_shape it sits at the start of each axis', async () => {
    const { model: ours } = await compileAndLoad(await loadApi(), bytes);
    const got = runFeeds(ours, feeds);
    const theirs = await ortOutputs(bytes, feeds);
    compare({ Y: got.Y }, { Y: theirs.Y }, 'Y');
    // onnxruntime reads output_shape's indices as flat positions in it (it fails ONNX's node test for this);
    // ONNX's reference (op_max_unpool.py) pads the unpooled tensor: Z[n, c, h, w] = Y[n, c, h, w] inside.
    assert.deepEqual(got.Z.shape, [1, 2, 6, 7]);
    for (let i = 0; i < 2 * 6 * 7; i++) {
      const [c, h, w] = [Math.floor(i / 42), Math.floor(i / 7) % 6, i % 7];
      const want = h < 5 && w < 5 ? theirs.Y.data[c * 25 + h * 5 + w] : 0;
      assert.equal(got.Z.data[i], want, `Z[0, ${c}, ${h}, ${w}]`);
    }
  });
});

describe('bad input to resampling ops: a clear error, and the model keeps working', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });
  const resizeModel = (scalesDims, attrs = {}) =>
    model({
      opset: 13,
      inputs: [
        ['X', 'float32', [1, 1, 'H', 4]],
        ['scales', 'float32', scalesDims],
      ],
      outputs: [['Y', 'float32']],
      nodes: [{ op: 'Resize', inputs: ['X', '', 'scales'], outputs: ['Y'], attrs }],
    });
  const sizesModel = (inits = {}) =>
    model({
      opset: 13,
      inputs: [['X', 'float32', [1, 1, 4, 4]], ...(inits.sizes ? [] : [['sizes', 'int64', [4]]])],
      outputs: [['Y', 'float32']],
      nodes: [{ op: 'Resize', inputs: ['X', '', '', 'sizes'], outputs: ['Y'] }],
      inits,
    });
  const compileError = async (bytes, opts) => {
    try {
      await api.compile(bytes, opts);
    } catch (err) {
      return err;
    }
    assert.fail('compiled');
  };
  const runError = (m, feeds) => {
    try {
      runFeeds(m, feeds);
    } catch (err) {
      return err;
    }
    assert.fail('ran');
  };
  const X = (h) => x4([1, 1, h, 4], `bad-${h}`);

  test('scales of the wrong length, known at compile time: a CompileError naming the node and the lengths', async () => {
    const bytes = model({
      opset: 13,
      inputs: [['X', 'float32', [1, 1, 4, 4]]],
      outputs: [['Y', 'float32']],
      nodes: [{ op: 'Resize', inputs: ['X', '', 's'], outputs: ['Y'], name: 'up' }],
      inits: { s: tensor('float32', [3], [1, 2, 2]) },
    });
    const err = await compileError(bytes);
    assert.equal(err.name, 'CompileError');
    assert.equal(err.problems[0].node, 'up');
    assert.match(err.problems[0].message, /scales has 3 values; it needs 4, one per dimension of the rank-4 input/);
  });

  test('scales of the wrong length at run time: shape-mismatch before anything runs, then a good call works', async () => {
    const { model: m } = await compileAndLoad(api, resizeModel(['k']), { dims: { H: '..16' } });
    const err = runError(m, { X: X(4), scales: tensor('float32', [3], [1, 2, 2]) });
    assert.equal(err.name, 'ModelError');
    assert.equal(err.code, 'shape-mismatch');
    assert.match(err.message, /scales needs 4 values, one per dimension of the rank-4 input/);
    const good = { X: X(5), scales: tensor('float32', [4], [1, 1, 2, 0.5]) };
    compare(runFeeds(m, good), await ortOutputs(resizeModel(['k']), good), 'after the error');
  });

  test('a negative size at compile time: a CompileError naming the entry', async () => {
    const err = await compileError(sizesModel({ sizes: tensor('int64', [4], [1, 1, -1, 3]) }));
    assert.equal(err.name, 'CompileError');
    assert.match(err.problems[0].message, /sizes\[2\] is -1; a size cannot be negative/);
  });

  test('a negative size at run time: bad-input naming the size, then a good call works', async () => {
    const bytes = sizesModel();
    const { model: m } = await compileAndLoad(api, bytes);
    const err = runError(m, { X: X(4), sizes: tensor('int64', [4], [1, 1, -4, 3]) });
    assert.equal(err.code, 'bad-input');
    assert.match(err.message, /\(Y\[2\]\) is -4: a size cannot be negative/);
    const good = { X: X(4), sizes: tensor('int64', [4], [1, 1, 7, 2]) };
    compare(runFeeds(m, good), await ortOutputs(bytes, good), 'after the error');
  });

  test('a negative scale at run time is refused the same way', async () => {
    const { model: m } = await compileAndLoad(api, resizeModel([4]), { dims: { H: '..16' } });
    const err = runError(m, { X: X(4), scales: tensor('float32', [4], [1, 1, -2, 1]) });
    assert.equal(err.code, 'bad-input');
    assert.match(err.message, /is -8: a size cannot be negative/);
  });

  test('scales asking for more than a length was compiled for: shape-out-of-bounds naming the --dim', async () => {
    const { model: m } = await compileAndLoad(api, resizeModel([4]), { dims: { H: '..16', 'Y[2]': '..20' } });
    const err = runError(m, { X: X(4), scales: tensor('float32', [4], [1, 1, 10, 1]) });
    assert.equal(err.code, 'shape-out-of-bounds');
    assert.match(
      err.message,
      /\(Y\[2\]\) is 40, beyond the 20 it was compiled for: compile it with --dim Y\[2\]=\.\.40/,
    );
    const good = { X: X(4), scales: tensor('float32', [4], [1, 1, 5, 1]) };
    compare(runFeeds(m, good), await ortOutputs(resizeModel([4]), good), 'within the bound');
  });

  test('both scales and sizes, and neither: a CompileError saying which', async () => {
    const both = model({
      opset: 13,
      inputs: [['X', 'float32', [1, 1, 4, 4]]],
      outputs: [['Y', 'float32']],
      nodes: [{ op: 'Resize', inputs: ['X', '', 's', 'z'], outputs: ['Y'] }],
      inits: { s: tensor('float32', [4], [1, 1, 2, 2]), z: tensor('int64', [4], [1, 1, 8, 8]) },
    });
    assert.match((await compileError(both)).problems[0].message, /both scales and sizes are given/);
    const neither = model({
      opset: 13,
      inputs: [['X', 'float32', [1, 1, 4, 4]]],
      outputs: [['Y', 'float32']],
      nodes: [{ op: 'Resize', inputs: ['X', '', 'e'], outputs: ['Y'] }],
      inits: { e: tensor('float32', [0], []) },
    });
    assert.match((await compileError(neither)).problems[0].message, /neither scales \(input 2\) nor sizes/);
  });

  /**
   * A one-node graph ONNX itself rejects, and feeds for every graph input (floats random, int64 zeros) so
   * that onnxruntime meets the node's own fault, not a missing input.
   */
  const one = (opset, op, inputs, attrs, inits = {}) => {
    const fed = inputs.filter(([n]) => n && !(n in inits));
    const bytes = model({
      opset,
      inputs: fed,
      outputs: [['Y', 'float32']],
      nodes: [{ op, inputs: inputs.map(([n]) => n), outputs: ['Y'], attrs, name: `bad ${op}` }],
      inits,
    });
    const feed = ([n, dtype, dims]) =>
      dtype === 'int64' ? tensor(dtype, dims, new Array(dims.reduce((a, b) => a * b, 1)).fill(0)) : x4(dims, n);
    return { bytes, feeds: Object.fromEntries(fed.map((i) => [i[0], feed(i)])) };
  };
  const image = ['X', 'float32', [1, 6, 4, 4]];
  const INVALID = [
    [
      one(16, 'GridSample', [image, ['g', 'float32', [1, 3, 3, 2]]], { mode: 'trilinear' }),
      /mode "trilinear" is not one of bilinear, linear, nearest, bicubic, cubic/,
    ],
    [
      one(16, 'GridSample', [image, ['g', 'float32', [1, 3, 3, 3]]], {}),
      /grid must end in 2 \(x, y\) \(it is 3, not 2\)/,
    ],
    [
      one(13, 'DepthToSpace', [['X', 'float32', [1, 6, 2, 2]]], { blocksize: 2 }),
      /the channel count 6 is not a multiple of 4/,
    ],
    [one(13, 'DepthToSpace', [image], { blocksize: 0 }), /blocksize 0 must be at least 1/],
    [
      one(13, 'SpaceToDepth', [['X', 'float32', [1, 6, 4]]], { blocksize: 2 }),
      /the input has rank 3; it must be \[N, C, H, W\]/,
    ],
    [
      one(16, 'RoiAlign', [image, ['r', 'float32', [2, 5]], ['b', 'int64', [2]]], {}),
      /rois must be \[num_rois, 4\] \(x1, y1, x2, y2\) \(it is 5, not 4\)/,
    ],
    [
      one(16, 'RoiAlign', [image, ['r', 'float32', [2, 4]], ['b', 'int64', [3]]], {}),
      /batch_indices must have one index per roi \(it is 3, not 2\)/,
    ],
    [
      one(11, 'MaxUnpool', [image, ['I', 'int64', [1, 6, 4, 4]]], { strides: [2, 2] }),
      /kernel_shape must give 2 sizes/,
    ],
    [
      one(11, 'MaxUnpool', [image, ['I', 'int64', [1, 6, 4, 3]]], { kernel_shape: [2, 2] }),
      /I must have the shape of X \(it is 3, not 4\)/,
    ],
    [
      one(
        13,
        'Resize',
        [image, ['', 'float32'], ['s', 'float32']],
        { mode: 'bilinear' },
        { s: tensor('float32', [4], [1, 1, 2, 2]) },
      ),
      /mode "bilinear" is Upsample's; Resize calls it "linear"/,
    ],
    [
      one(13, 'Resize', [image, ['', 'float32'], ['s', 'float32']], {}, { s: tensor('float32', [4], [1, 1, 0, 2]) }),
      /scales\[2\] is 0; every scale must be above 0/,
    ],
    [
      one(13, 'Tile', [image, ['r', 'int64']], {}, { r: tensor('int64', [4], [1, 1, -1, 2]) }),
      /repeats\[2\] is -1; it cannot be negative/,
    ],
    [
      one(16, 'RoiAlign', [image, ['r', 'float32', [2, 4]], ['b', 'int64']], {}, { b: tensor('int64', [2], [0, 1]) }),
      /every batch_indices entry must name an image of X \(entry 1 is 1, outside 0\.\.0\)/,
    ],
    [
      one(
        11,
        'MaxUnpool',
        [
          ['X', 'float32', [1, 1, 2, 2]],
          ['I', 'int64'],
        ],
        { kernel_shape: [2, 2], strides: [2, 2] },
        { I: tensor('int64', [1, 1, 2, 2], [0, 3, 16, 15]) },
      ),
      /every entry of I must index the unpooled \[1, 1, 4, 4\] \(entry 2 is 16, outside 0\.\.15\)/,
    ],
  ];

  test('graphs ONNX rejects (modes, shapes, attributes): a CompileError naming the node, and onnxruntime refuses them too', async (t) => {
    for (const [{ bytes, feeds }, message] of INVALID) {
      const err = await compileError(bytes);
      assert.equal(err.name, 'CompileError', String(message));
      assert.equal(err.problems.length, 1, `${message}: ${err.message}`);
      assert.match(err.problems[0].node, /^bad /);
      assert.match(err.problems[0].message, message);
      const refused = await ortOutputs(bytes, feeds).then(
        () => assert.fail(`onnxruntime runs the graph behind ${message}`),
        (e) => e.message,
      );
      t.diagnostic(`${message}: onnxruntime says ${refused.split('\n')[0]}`);
      assert.doesNotMatch(refused, /missing in 'feeds'|missing input/i, String(message));
    }
  });

  test('index data out of range at run time (RoiAlign batch_indices, MaxUnpool I): bad-input naming the entry, then a good call works', async () => {
    const roi = model({
      opset: 16,
      inputs: [
        ['X', 'float32', ['N', 2, 6, 6]],
        ['rois', 'float32', ['R', 4]],
        ['b', 'int64', ['R']],
      ],
      outputs: [['Y', 'float32']],
      nodes: [
        {
          op: 'RoiAlign',
          inputs: ['X', 'rois', 'b'],
          outputs: ['Y'],
          attrs: { output_height: 2, output_width: 3 },
          name: 'crop',
        },
      ],
    });
    const { model: m } = await compileAndLoad(api, roi, { dims: { N: '..4', R: '..8' } });
    const rois = tensor('float32', [3, 4], [0, 0, 3, 3, 1, 2, 5, 4, 0.5, 0.5, 2, 5]);
    const bad = { X: x4([2, 2, 6, 6], 'roi-x'), rois, b: tensor('int64', [3], [1, 0, 2]) };
    const err = runError(m, bad);
    assert.equal(err.code, 'bad-input');
    assert.match(
      err.message,
      /RoiAlign "crop": every batch_indices entry must name an image of X \(entry 2 is outside \[0, 2\)\)/,
    );
    assert.match(runError(m, { ...bad, b: tensor('int64', [3], [-1, 0, 0]) }).message, /entry 0 is outside \[0, 2\)/);
    for (const good of [
      { ...bad, b: tensor('int64', [3], [1, 0, 1]) },
      { ...bad, X: x4([3, 2, 6, 6], 'roi-x3') },
    ]) {
      compare(runFeeds(m, good), await ortOutputs(roi, good), 'RoiAlign after the error');
    }

    const unpool = model({
      opset: 11,
      inputs: [
        ['X', 'float32', [1, 2, 'H', 2]],
        ['I', 'int64', [1, 2, 'H', 2]],
      ],
      outputs: [['Y', 'float32']],
      nodes: [
        {
          op: 'MaxUnpool',
          inputs: ['X', 'I'],
          outputs: ['Y'],
          attrs: { kernel_shape: [2, 2], strides: [2, 2] },
          name: 'up',
        },
      ],
    });
    const { model: u } = await compileAndLoad(api, unpool, { dims: { H: '..4' } });
    // H = 2: the unpooled [1, 2, 4, 4] has 32 places; 32 is one past the end.
    const I = (values) => tensor('int64', [1, 2, 2, 2], values);
    const feeds = { X: x4([1, 2, 2, 2], 'unpool-x'), I: I([0, 3, 9, 14, 17, 22, 32, 31]) };
    const uerr = runError(u, feeds);
    assert.equal(uerr.code, 'bad-input');
    assert.match(
      uerr.message,
      /MaxUnpool "up": every entry of I must index the unpooled \[1, 2, 2\*H, 4\] \(entry 6 is outside \[0, 32\)\)/,
    );
    const ok = { ...feeds, I: I([0, 3, 9, 14, 17, 22, 26, 31]) };
    compare(runFeeds(u, ok), await ortOutputs(unpool, ok), 'MaxUnpool after the error');
  });

  test('a negative Tile repeat at run time, and a height SpaceToDepth cannot split', async () => {
    const bytes = model({
      opset: 13,
      inputs: [
        ['X', 'float32', [2, 3]],
        ['repeats', 'int64', [2]],
        ['Z', 'float32', [1, 1, 'H', 4]],
      ],
      outputs: [
        ['Y', 'float32'],
        ['S', 'float32'],
      ],
      nodes: [
        { op: 'Tile', inputs: ['X', 'repeats'], outputs: ['Y'] },
        { op: 'SpaceToDepth', inputs: ['Z'], outputs: ['S'], attrs: { blocksize: 2 } },
      ],
    });
    const { model: m } = await compileAndLoad(api, bytes, { dims: { H: '..8' } });
    const feeds = { X: x4([2, 3], 't1'), repeats: tensor('int64', [2], [2, -1]), Z: X(4) };
    const tileErr = runError(m, feeds);
    assert.equal(tileErr.code, 'bad-input');
    assert.match(tileErr.message, /repeats\[1\]\) is -1: a size cannot be negative/);
    const splitErr = runError(m, { ...feeds, repeats: tensor('int64', [2], [2, 1]), Z: X(5) });
    assert.equal(splitErr.code, 'shape-mismatch');
    assert.match(splitErr.message, /the height must be a multiple of 2/);
    const good = { ...feeds, repeats: tensor('int64', [2], [2, 1]), Z: X(6) };
    compare(runFeeds(m, good), await ortOutputs(bytes, good), 'after the errors');
  });
});
