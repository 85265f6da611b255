// React 19 with <ml-classifier>: React 19 sets `input` as a property (the element has one) and listens
// to the custom event through the `onml-prediction` prop (an "on" prop on a custom element is
// addEventListener with the rest of the name, case kept).
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import 'ml-widgets/ml-classifier'; // defines <ml-classifier> (guarded: harmless if already defined)

const FEATURES = [
  { name: 'Sepal length', min: 4, max: 8 },
  { name: 'Sepal width', min: 2, max: 4.5 },
  { name: 'Petal length', min: 1, max: 7 },
  { name: 'Petal width', min: 0.1, max: 2.5 },
];
const PRESETS = { Setosa: [5.1, 3.5, 1.4, 0.2], Versicolor: [6.0, 2.7, 4.2, 1.3], Virginica: [6.9, 3.1, 5.8, 2.2] };
// The model URL: the demo's compiled iris model, or ?model=… (the tests point it at a fixture).
const model = new URLSearchParams(location.search).get('model') ?? '../models/iris.wasm';

function App() {
  const [features, setFeatures] = useState(PRESETS.Versicolor);
  const [best, setBest] = useState(null);
  const setFeature = (i, value) => setFeatures((f) => f.map((v, j) => (j === i ? value : v)));

  return (
    <main>
      <h1>Iris species · React 19</h1>
      <div className="fields">
        {FEATURES.map((f, i) => (
          // The label names the slider by id: wrapping both, it would label the <output> (also labelable).
          <div className="field" key={f.name}>
            <label htmlFor={`feature-${i}`}>{f.name}</label>
            <output htmlFor={`feature-${i}`}>{features[i].toFixed(1)} cm</output>
            <input
              id={`feature-${i}`}
              type="range"
              min={f.min}
              max={f.max}
              step="0.1"
              value={features[i]}
              onChange={(e) => setFeature(i, Number(e.target.value))}
            />
          </div>
        ))}
      </div>
      <p className="presets">
        {Object.entries(PRESETS).map(([name, values]) => (
          <button key={name} type="button" onClick={() => setFeatures(values)}>
            {name}-like
          </button>
        ))}
      </p>
      <ml-classifier
        src={model}
        input={features}
        top-k="3"
        onml-prediction={(e) => setBest(e.detail.predictions[0])}
        onml-error={(e) => setBest({ error: e.detail.message })}
      />
      <p id="result" role="status">
        {best === null
          ? 'Waiting for the model…'
          : best.error
            ? `Error: ${best.error}`
            : `React state says: ${best.label} (${(best.score * 100).toFixed(1)}%)`}
      </p>
    </main>
  );
}

createRoot(document.getElementById('root')).render(<App />);
