// What the conformance run says, as the summary line the test suite prints and the per-op table the
// report prints. `results`: [{ key, entry, variant, skip, verdict: { pass, reason } | undefined }].

const count = (list, f) => list.filter(f).length;

/** Passing counts: ours against onnxruntime-node's, per variant, among the cases in scope. */
export function totals(results) {
  const run = results.filter((r) => !r.skip);
  const of = (v) => run.filter((r) => r.variant === v);
  const pct = (a, b) => (b ? ` (${Math.round((100 * a) / b)} %)` : '');
  const asIs = of('as-is');
  const konst = of('const');
  const ours = count(asIs, (r) => r.verdict.pass);
  const oursConst = count(konst, (r) => r.verdict.pass);
  const outOfScope = new Set(results.filter((r) => r.skip?.startsWith('out of scope')).map((r) => r.entry.name));
  return {
    ours,
    ort: asIs.length,
    oursConst,
    ortConst: konst.length,
    outOfScope: outOfScope.size,
    line:
      `ONNX node tests onnxruntime-node passes, in scope: ours ${ours} / ORT's ${asIs.length}${pct(ours, asIs.length)} as exported; ` +
      `${oursConst} / ${konst.length}${pct(oursConst, konst.length)} with inputs 2..K constant; ` +
      `${outOfScope.size} more out of scope (dtypes, sequences)`,
  };
}

/** Rows of the per-op table, the ops with most failing tests first. */
export function perOp(results) {
  const ops = new Map();
  for (const r of results) {
    const op = r.entry.domain ? `${r.entry.domain}.${r.entry.op}` : r.entry.op;
    if (!ops.has(op)) ops.set(op, []);
    ops.get(op).push(r);
  }
  const rows = [...ops].map(([op, list]) => {
    const run = list.filter((r) => !r.skip);
    const asIs = run.filter((r) => r.variant === 'as-is');
    const konst = run.filter((r) => r.variant === 'const');
    const reasons = new Map();
    for (const r of run) {
      if (r.verdict.pass) continue;
      const why = r.verdict.reason;
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    }
    const top = [...reasons].sort((a, b) => b[1] - a[1])[0];
    return {
      op,
      ort: asIs.length,
      ours: count(asIs, (r) => r.verdict.pass),
      ortConst: konst.length,
      oursConst: count(konst, (r) => r.verdict.pass),
      outOfScope: new Set(list.filter((r) => r.skip?.startsWith('out of scope')).map((r) => r.entry.name)).size,
      reason: top ? top[0] : '',
    };
  });
  return rows.sort((a, b) => b.ort - b.ours - (a.ort - a.ours) || a.op.localeCompare(b.op));
}

/** The per-op table as text. */
export function opTable(results, { width = 100 } = {}) {
  const rows = perOp(results);
  const opWidth = Math.max(...rows.map((r) => r.op.length), 2);
  const head = `${'op'.padEnd(opWidth)}  as-is  const  oos  the commonest reason for a failure`;
  const lines = rows.map((r) => {
    const frac = (a, b) => (b ? `${a}/${b}` : '-').padStart(5);
    const reason = r.reason.length > width ? `${r.reason.slice(0, width - 1)}…` : r.reason;
    return `${r.op.padEnd(opWidth)}  ${frac(r.ours, r.ort)}  ${frac(r.oursConst, r.ortConst)}  ${String(r.outOfScope || '').padStart(3)}  ${reason}`;
  });
  return [head, ...lines].join('\n');
}
