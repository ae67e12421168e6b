/**
 * Jest's node environment with Node's own typed-array constructors. onnxruntime-node builds its
 * output tensors from arrays the native addon allocates in Node's realm, and onnxruntime-common
 * checks `data instanceof Float32Array`: in jest's separate vm realm that check fails ("A float32
 * tensor's data must be type of function Float32Array()"). A worker process has one realm, so this
 * is needed by the tests only. Chosen by a @jest-environment docblock in the tests that run the model.
 */
const { TestEnvironment } = require('jest-environment-node');

const typedArrays = [
  Float32Array,
  Float64Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
  ArrayBuffer,
];

class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const ctor of typedArrays) this.global[ctor.name] = ctor;
  }
}

module.exports = NodeRealmEnvironment;
