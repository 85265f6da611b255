// NonMaxSuppression through our compiler and runtime against onnxruntime-node on one-node models: both box
// formats (corners in either order, zero-area boxes), one or several batches and classes, with and without
// a score threshold, max_output_boxes_per_class absent, 0, small or beyond the box count, IoU thresholds
// 0 to 1, scores with many ties (equal scores: the lower box index first), NaN scores and coordinates (where
// onnxruntime's heap order decides), the scalars as
// constants or run-time inputs (int64 count), everything constant (folded). Integers exactly.
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { loadApi, rng } from './helpers.mjs';
import { checkAgainstOrt, feedsOf, graphModel, nodeModel, runOrt } from './ort-compare.mjs';

const exact = { atol: 0, rtol: 0 };
const OUT = [{ name: 'selected', type: 'int64' }];

/** Random boxes [B, S, 4]: clustered so that many overlap; some corners swapped, some of zero size. */
function randomBoxes(r, B, S, center) {
  const out = [];
  for (let i = 0; i < B * S; i++) {
    const [cx, cy] = [Math.floor(r() * 4) + r() * 0.5, Math.floor(r() * 4) + r() * 0.5];
    const [w, h] = r() < 0.1 ? [0, r()] : [0.5 + r() * 1.5, 0.5 + r() * 1.5];
    if (center) out.push(cx, cy, w, h);
    else {
      const [y1, x1, y2, x2] = [cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2];
      out.push(...(r() < 0.3 ? [y2, x2, y1, x1] : r() < 0.5 ? [y1, x2, y2, x1] : [y1, x1, y2, x2]));
    }
  }
  return out;
}

describe('NonMaxSuppression against onnxruntime-node', () => {
  let api;
  before(async () => {
    api = await loadApi();
  });

  let seed = 7;
  for (const [B, C, S] of [
    [1, 1, 1],
    [1, 1, 9],
    [2, 3, 12],
    [3, 2, 40],
    [1, 4, 100],
  ]) {
    for (const center of [0, 1]) {
      for (const variant of ['plain', 'score threshold', 'ties', 'NaN', 'no max', 'max 0', 'const', 'all constant']) {
        const s = seed++;
        test(`[${B}, ${C}, ${S}] center_point_box ${center}, ${variant}`, async () => {
          const r = rng(s);
          const boxes = randomBoxes(r, B, S, center).map((v) => (variant === 'NaN' && r() < 0.05 ? NaN : v));
          const scores = Array.from({ length: B * C * S }, () =>
            variant === 'ties' ? Math.floor(r() * 3) / 4 : variant === 'NaN' && r() < 0.2 ? NaN : Math.fround(r()),
          );
          const constant = variant === 'const' || variant === 'all constant';
          const init = (values, always = true) => (always && constant ? { init: values } : {});
          const maxPer = variant === 'max 0' ? 0 : [1, 3, 1000][s % 3];
          const iou = [0, 0.3, 0.5, 0.7, 1][s % 5];
          const inputs = [
            {
              name: 'boxes',
              type: 'float32',
              dims: [B, S, 4],
              values: boxes,
              ...init(boxes, variant === 'all constant'),
            },
            {
              name: 'scores',
              type: 'float32',
              dims: [B, C, S],
              values: scores,
              ...init(scores, variant === 'all constant'),
            },
            variant === 'no max'
              ? null
              : { name: 'max', type: 'int64', dims: [1], values: [maxPer], ...init([maxPer]) },
            { name: 'iou', type: 'float32', dims: [1], values: [iou], ...init([iou]) },
          ];
          if (variant === 'score threshold' || variant === 'ties' || variant === 'all constant')
            inputs.push({ name: 'score', type: 'float32', dims: [], values: [0.4], ...init([0.4]) });
          const attrs = { center_point_box: center };
          const spec = { op: 'NonMaxSuppression', opset: 11, attrs, inputs, outputs: OUT };
          if (variant === 'all constant') {
            // Folded at compile time; a model needs an input, so one more goes through a Relu.
            const x = { name: 'x', type: 'float32', dims: [2], values: [1, -2] };
            const names = inputs.map((i) => i.name);
            spec.bytes = graphModel({
              opset: 11,
              nodes: [
                { op: 'NonMaxSuppression', inputs: names, outputs: ['selected'], attrs },
                { op: 'Relu', inputs: ['x'], outputs: ['y'] },
              ],
              inputs: [...inputs, x],
              outputs: [...OUT, { name: 'y', type: 'float32' }],
            });
            spec.inputs = [...inputs, x];
          }
          const theirs = await checkAgainstOrt(api, spec, exact);
          if (variant === 'plain' && S > 1) assert.ok(theirs.selected.shape[0] > 0, 'the case selects something');
        });
      }
    }
  }

  test('identical boxes and scores: the first box stays (onnxruntime’s heap order of ties)', async () => {
    const S = 33;
    const inputs = [
      { name: 'boxes', type: 'float32', dims: [1, S, 4], values: Array.from({ length: S }, () => [0, 0, 1, 1]).flat() },
      { name: 'scores', type: 'float32', dims: [1, 1, S], values: Array(S).fill(0.9) },
      { name: 'max', type: 'int64', dims: [], values: [S] },
      { name: 'iou', type: 'float32', dims: [], values: [0.5] },
    ];
    const theirs = await checkAgainstOrt(api, { op: 'NonMaxSuppression', opset: 10, inputs, outputs: OUT }, exact);
    assert.deepEqual(Array.from(theirs.selected.data, Number), [0, 0, 0]);
  });

  test('disjoint boxes with equal scores: every box, in onnxruntime’s heap order', async () => {
    const S = 23;
    const inputs = [
      {
        name: 'boxes',
        type: 'float32',
        dims: [1, S, 4],
        values: Array.from({ length: S }, (_, i) => [0, 2 * i, 1, 2 * i + 1]).flat(),
      },
      { name: 'scores', type: 'float32', dims: [1, 1, S], values: Array(S).fill(0.5) },
      { name: 'max', type: 'int64', dims: [], values: [S] },
    ];
    await checkAgainstOrt(api, { op: 'NonMaxSuppression', opset: 11, inputs, outputs: OUT }, exact);
  });

  describe('bad input', () => {
    const boxes = { name: 'boxes', type: 'float32', dims: [1, 6, 4] };
    const scores = { name: 'scores', type: 'float32', dims: [1, 2, 6] };
    const bad = [
      [
        'boxes of 5 numbers',
        { inputs: [{ ...boxes, dims: [1, 6, 5] }, scores] },
        /the boxes must be \[batches, boxes, 4\], got \[1, 6, 5\]/,
      ],
      ['scores for fewer boxes', { inputs: [boxes, { ...scores, dims: [1, 2, 5] }] }, /one per box/],
      ['scores of another batch count', { inputs: [boxes, { ...scores, dims: [2, 2, 6] }] }, /as many batches/],
      [
        '2-D scores',
        { inputs: [boxes, { ...scores, dims: [2, 6] }] },
        /the scores must be \[batches, classes, boxes\]/,
      ],
      [
        'center_point_box 2',
        { inputs: [boxes, scores], attrs: { center_point_box: 2 } },
        /center_point_box is 2; it must be 0 or 1/,
      ],
      [
        'a float max_output_boxes_per_class',
        { inputs: [boxes, scores, { name: 'm', type: 'float32', dims: [] }] },
        /max_output_boxes_per_class is float32; it must be int64/,
      ],
      [
        'a constant iou_threshold of 1.5',
        {
          inputs: [
            boxes,
            scores,
            { name: 'm', type: 'int64', dims: [], init: [2] },
            { name: 'i', type: 'float32', dims: [], init: [1.5] },
          ],
        },
        /iou_threshold is 1.5; it must be in \[0, 1\]/,
      ],
      [
        'a vector iou_threshold',
        { inputs: [boxes, scores, { name: 'm', type: 'int64', dims: [] }, { name: 'i', type: 'float32', dims: [2] }] },
        /iou_threshold must be a scalar, got \[2\]/,
      ],
    ];
    for (const [what, spec, message] of bad) {
      test(what, async () => {
        const bytes = nodeModel({ op: 'NonMaxSuppression', opset: 11, outputs: OUT, ...spec });
        await assert.rejects(api.compile(bytes), (err) => {
          assert.ok(err instanceof api.CompileError, `${err?.name}: ${err?.message}`);
          assert.equal(err.problems.length, 1);
          assert.equal(err.problems[0].node, 'NonMaxSuppression_0');
          assert.match(err.problems[0].message, message);
          return true;
        });
      });
    }

    const runtimeModel = () =>
      nodeModel({
        op: 'NonMaxSuppression',
        opset: 11,
        inputs: [
          { name: 'boxes', type: 'float32', dims: [1, 'S', 4] },
          { name: 'scores', type: 'float32', dims: [1, 1, 'S'] },
          { name: 'max', type: 'int64', dims: [] },
          { name: 'iou', type: 'float32', dims: [] },
        ],
        outputs: OUT,
      });
    const feeds = (S, iou) =>
      feedsOf([
        {
          name: 'boxes',
          type: 'float32',
          dims: [1, S, 4],
          values: Array.from({ length: S }, (_, i) => [0, 2 * i, 1, 2 * i + 1]).flat(),
        },
        { name: 'scores', type: 'float32', dims: [1, 1, S], values: Array.from({ length: S }, (_, i) => 1 - i / S) },
        { name: 'max', type: 'int64', dims: [], values: [S] },
        { name: 'iou', type: 'float32', dims: [], values: [iou] },
      ]);

    test('a run-time iou_threshold outside [0, 1] fails the call (onnxruntime refuses it too); the next call works', async () => {
      const bytes = runtimeModel();
      await assert.rejects(runOrt(bytes, feeds(3, 1.5)), /iou_threshold must be in range/);
      const model = await api.loadModel((await api.compile(bytes)).wasm);
      assert.throws(
        () => model.run(feeds(3, 1.5)),
        (err) => err.code === 'bad-input' && /iou_threshold in \[0, 1\]/.test(err.message),
      );
      const { selected } = model.run(feeds(3, 0.5));
      assert.deepEqual(Array.from(selected.data, Number), [0, 0, 0, 0, 0, 1, 0, 0, 2]);
    });

    test('more selected boxes than the model was compiled for: shape-out-of-bounds naming --dim selected', async () => {
      const { wasm } = await api.compile(runtimeModel(), { dims: { selected: '..4' } });
      const model = await api.loadModel(wasm);
      assert.throws(
        () => model.run(feeds(6, 0.5)),
        (err) => err.code === 'shape-out-of-bounds' && /--dim selected=\.\.6/.test(err.message),
      );
      const { selected } = model.run(feeds(4, 0.5));
      assert.deepEqual(selected.shape, [4, 3]);
    });
  });
});
