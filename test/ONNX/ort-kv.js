// Checks a language model written with --kv-inputs in ONNX Runtime
// (onnxruntime-node, from NODE_PATH) against the same model written without:
//   node ort-kv.js KV.onnx PLAIN.onnx IDS.i64 SPLIT TOLERANCE KV_HEADS HEAD_DIM
// The plain file's logits on all the ids; the KV file's with an empty past;
// and its logits on the ids after SPLIT, fed the presents of a first run on
// the ids before SPLIT. Prints the largest differences; exits 1 when one is
// above TOLERANCE times the largest logit.
const fs = require('fs');
const ort = require('onnxruntime-node');

(async () => {
  const [kvPath, plainPath, idsPath, splitArg, tolArg, heads, hd] = process.argv.slice(2);
  const bytes = fs.readFileSync(idsPath);
  const ids = new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
  const split = Number(splitArg);
  const kv = await ort.InferenceSession.create(kvPath);
  const plain = await ort.InferenceSession.create(plainPath);
  const pastNames = kv.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const tokens = (a) => new ort.Tensor('int64', a, [1, a.length]);
  const empty = new ort.Tensor('float32', new Float32Array(0), [1, Number(heads), 0, Number(hd)]);
  const run = async (a, past) => {
    const feeds = { input_ids: tokens(a) };
    pastNames.forEach((n, i) => { feeds[n] = past ? past[i] : empty; });
    const out = await kv.run(feeds);
    return [out.logits, pastNames.map((n) => out[n.replace('past_key_values.', 'present.')])];
  };
  const reference = (await plain.run({ input_ids: tokens(ids) })).logits.data;
  const [whole] = await run(ids);
  const [, presents] = await run(ids.slice(0, split));
  const [tail] = await run(ids.slice(split), presents);
  const vocab = whole.dims[2];
  let scale = 0, dWhole = 0, dTail = 0;
  for (let i = 0; i < reference.length; ++i) {
    scale = Math.max(scale, Math.abs(reference[i]));
    dWhole = Math.max(dWhole, Math.abs(whole.data[i] - reference[i]));
  }
  for (let i = 0; i < tail.data.length; ++i)
    dTail = Math.max(dTail, Math.abs(tail.data[i] - reference[split * vocab + i]));
  console.log(`cache [1, ${heads}, P, ${hd}] in ${pastNames.length} inputs; ` +
              `present of ${split} tokens: [${presents[0].dims}]; ` +
              `max |difference| empty past ${dWhole.toExponential(2)}, ` +
              `after the past ${dTail.toExponential(2)} (largest logit ${scale.toFixed(2)})`);
  process.exit(dWhole <= Number(tolArg) * scale && dTail <= Number(tolArg) * scale ? 0 : 1);
})().catch((e) => { console.error(`ort-kv: error: ${e.message}`); process.exit(1); });
