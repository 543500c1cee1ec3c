// Recognises what a non-ONNX file looks like (so the error can say "looks like a PNG image") and
// scans the top-level protobuf fields of a ModelProto to tell "not ONNX at all" from "ONNX, truncated".

const signatures: readonly [readonly number[], string][] = [
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0xff, 0xd8, 0xff], 'a JPEG image'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image'],
  [[0x52, 0x49, 0x46, 0x46], 'a RIFF file (WebP image or WAV audio)'],
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive (a PyTorch .pt checkpoint, .npz or .zip?)'],
  [[0x1f, 0x8b], 'a gzip archive'],
  [[0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 'a NumPy .npy file'],
  [[0x89, 0x48, 0x44, 0x46], 'an HDF5 file (a Keras .h5 model?)'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  [[0x80, 0x02], 'a Python pickle (a PyTorch checkpoint?)'],
  [[0x80, 0x04], 'a Python pickle (a PyTorch checkpoint?)'],
  [[0x80, 0x05], 'a Python pickle (a PyTorch checkpoint?)'],
];

/** A description such as 'a PNG image' when the bytes are recognisably something else, else undefined. */
export function describeNonOnnx(bytes: Uint8Array): string | undefined {
  for (const [magic, what] of signatures) {
    if (magic.every((b, i) => bytes[i] === b)) return what;
  }
  if (bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3') {
    return 'a TensorFlow Lite model (convert it with tf2onnx first)';
  }
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 512));
  // Text: no control characters other than whitespace in the first 512 bytes.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
  if (!/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(head.slice(0, -4))) {
    const t = head.trimStart();
    if (t.startsWith('{') || t.startsWith('[')) return 'a JSON file';
    if (t.startsWith('<')) return 'an HTML or XML file (a download error page?)';
    if (t.startsWith('version https://git-lfs')) return 'a Git LFS pointer (run `git lfs pull`)';
    return 'a text file';
  }
  return undefined;
}

// ModelProto field number -> wire type (0 varint, 2 length-delimited).
const modelFields = new Map<number, number>([
  [1, 0], // ir_version
  [2, 2], // producer_name
  [3, 2], // producer_version
  [4, 2], // domain
  [5, 0], // model_version
  [6, 2], // doc_string
  [7, 2], // graph
  [8, 2], // opset_import
  [14, 2], // metadata_props
  [20, 2], // training_info
  [25, 2], // functions
  [26, 2], // configuration
]);

export interface FieldScan {
  /** A plausible ir_version (1..64) was read as a top-level field. */
  readonly irVersion: boolean;
  /** The first top-level field is a ModelProto field with the right wire type. */
  readonly startsLikeModel: boolean;
  /** A length or varint ran past the end of the bytes. */
  readonly truncated: boolean;
}

/** Walks the top-level fields only (never recursing), so it is linear and cannot hang. */
export function scanModelFields(bytes: Uint8Array): FieldScan {
  let pos = 0;
  let irVersion = false;
  let startsLikeModel = false;
  let first = true;
  const varint = (): number | undefined => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) return undefined;
      const b = bytes[pos++]!;
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return result;
    }
    return Number.NaN;
  };
  while (pos < bytes.length) {
    const tag = varint();
    if (tag === undefined) return { irVersion, startsLikeModel, truncated: true };
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (first) startsLikeModel = modelFields.get(field) === wire;
    first = false;
    if (wire === 0) {
      const v = varint();
      if (v === undefined) return { irVersion, startsLikeModel, truncated: true };
      if (field === 1 && v >= 1 && v <= 64) irVersion = true;
    } else if (wire === 2) {
      const len = varint();
      if (len === undefined || pos + len > bytes.length)
        return { irVersion, startsLikeModel, truncated: true };
      pos += len;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
      if (pos > bytes.length) return { irVersion, startsLikeModel, truncated: true };
    } else {
      break; // groups or invalid wire types never occur in ModelProto
    }
  }
  return { irVersion, startsLikeModel, truncated: false };
}

// Where subgraphs live: ModelProto.graph (7) → GraphProto.node (1) → NodeProto.attribute (5) →
// AttributeProto.g (6) / graphs (11) → GraphProto ...
const subgraphPath: Readonly<
  Record<'model' | 'graph' | 'node' | 'attribute', Readonly<Record<number, string>>>
> = {
  model: { 7: 'graph' },
  graph: { 1: 'node' },
  node: { 5: 'attribute' },
  attribute: { 6: 'graph', 11: 'graph' },
};

/**
 * How deeply graphs nest inside node attributes (0: a main graph without subgraphs), read without
 * decoding and without recursion, so it works on files too deep for the protobuf decoder.
 */
export function subgraphDepth(bytes: Uint8Array): number {
  const stack: { kind: keyof typeof subgraphPath; end: number; depth: number }[] = [];
  let pos = 0;
  let kind: keyof typeof subgraphPath = 'model';
  let end = bytes.length;
  let depth = -1;
  let deepest = 0;
  const varint = (): number | undefined => {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10 && pos < bytes.length; i++) {
      const b = bytes[pos++]!;
      result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return result;
    }
    return undefined;
  };
  for (;;) {
    if (pos >= end) {
      const outer = stack.pop();
      if (!outer) return deepest;
      ({ kind, end, depth } = outer);
      continue;
    }
    const tag = varint();
    if (tag === undefined) return deepest;
    const wire = tag % 8;
    if (wire === 0) {
      if (varint() === undefined) return deepest;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
    } else if (wire === 2) {
      const len = varint();
      if (len === undefined || pos + len > end) return deepest;
      const inner = subgraphPath[kind][Math.floor(tag / 8)] as keyof typeof subgraphPath | undefined;
      if (inner) {
        stack.push({ kind, end, depth });
        kind = inner;
        end = pos + len;
        if (inner === 'graph') deepest = Math.max(deepest, ++depth);
      } else {
        pos += len;
      }
    } else {
      return deepest;
    }
  }
}
