// Runs an ONNX file in ONNX Runtime (onnxruntime-node, from NODE_PATH) on
// inputs read from raw files, and writes every output beside OUT as
// OUT.<index>.f32 with OUT.json listing names and shapes.
//   node ort-run.js MODEL.onnx OUT NAME:D0xD1x...:FILE[:float32|int64[:RUNS]] ...
// With RUNS, FILE holds RUNS inputs of that shape one after another: the
// model runs once on each, and the outputs are written one after another
// (the first dimension of each listed shape multiplied by RUNS).
const fs = require('fs');
const ort = require('onnxruntime-node');

(async () => {
  const [model, out, ...specs] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model);
  const inputs = specs.map((spec) => {
    const [name, shape, file, type = 'float32', runs = '1'] = spec.split(':');
    const bytes = fs.readFileSync(file);
    const Array_ = type === 'int64' ? BigInt64Array : Float32Array;
    const data = new Array_(bytes.buffer, bytes.byteOffset, bytes.length / Array_.BYTES_PER_ELEMENT);
    return { name, type, dims: shape.split('x').map(Number), data, runs: Number(runs) };
  });
  const runs = Math.max(...inputs.map((i) => i.runs));
  const chunks = session.outputNames.map(() => []);
  let dims = [];
  for (let r = 0; r < runs; ++r) {
    const feeds = {};
    for (const i of inputs) {
      const n = i.data.length / i.runs;
      feeds[i.name] = new ort.Tensor(i.type, i.data.slice(r * n, (r + 1) * n), i.dims);
    }
    const results = await session.run(feeds);
    dims = session.outputNames.map((name, o) => {
      chunks[o].push(Buffer.from(results[name].data.buffer, results[name].data.byteOffset,
                                 results[name].data.byteLength));
      return results[name].dims;
    });
  }
  const listing = session.outputNames.map((name, o) => {
    fs.writeFileSync(`${out}.${o}.f32`, Buffer.concat(chunks[o]));
    return { name, dims: [dims[o][0] * runs, ...dims[o].slice(1)] };
  });
  fs.writeFileSync(`${out}.json`, JSON.stringify(listing));
})().catch((e) => { console.error(`ort-run: error: ${e.message}`); process.exit(1); });
