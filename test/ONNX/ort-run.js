// Runs an ONNX file in ONNX Runtime (onnxruntime-node, from NODE_PATH) on
// float32 inputs read from raw files, and writes every output beside OUT as
// OUT.<index>.f32 with OUT.json listing names and shapes.
//   node ort-run.js MODEL.onnx OUT NAME:D0xD1x...:FILE.f32 ...
const fs = require('fs');
const ort = require('onnxruntime-node');

(async () => {
  const [model, out, ...specs] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model);
  const feeds = {};
  for (const spec of specs) {
    const [name, shape, file] = spec.split(':');
    const bytes = fs.readFileSync(file);
    const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    feeds[name] = new ort.Tensor('float32', data, shape.split('x').map(Number));
  }
  const results = await session.run(feeds);
  const listing = [];
  session.outputNames.forEach((name, i) => {
    const t = results[name];
    fs.writeFileSync(`${out}.${i}.f32`, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    listing.push({ name, dims: t.dims });
  });
  fs.writeFileSync(`${out}.json`, JSON.stringify(listing));
})().catch((e) => { console.error(`ort-run: error: ${e.message}`); process.exit(1); });
