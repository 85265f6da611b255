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
