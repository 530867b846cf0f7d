import protobuf from 'protobufjs';

/**
 * The weights of a .caffemodel: a NetParameter whose layers carry their
 * learned blobs. Only the fields needed to read weights are declared (field
 * numbers from BVLC caffe.proto; everything else is skipped as unknown).
 */
const SCHEMA = {
  nested: {
    BlobShape: { fields: { dim: { rule: 'repeated', type: 'int64', id: 1, options: { packed: true } } } },
    BlobProto: {
      fields: {
        num: { type: 'int32', id: 1 },
        channels: { type: 'int32', id: 2 },
        height: { type: 'int32', id: 3 },
        width: { type: 'int32', id: 4 },
        data: { rule: 'repeated', type: 'float', id: 5, options: { packed: true } },
        shape: { type: 'BlobShape', id: 7 },
      },
    },
    LayerParameter: {
      fields: {
        name: { type: 'string', id: 1 },
        type: { type: 'string', id: 2 },
        blobs: { rule: 'repeated', type: 'BlobProto', id: 7 },
      },
    },
    NetParameter: {
      fields: {
        name: { type: 'string', id: 1 },
        layer: { rule: 'repeated', type: 'LayerParameter', id: 100 },
      },
    },
  },
};

export interface CaffeBlob {
  shape: number[];
  data: Float32Array;
}

interface DecodedNet {
  layer?: Array<{ name?: string; blobs?: Array<{ shape?: { dim?: Array<number | { toNumber(): number }> }; num?: number; channels?: number; height?: number; width?: number; data?: number[] }> }>;
}

/** Learned blobs by layer name (layers without weights are left out). */
export function readCaffeWeights(bytes: Uint8Array): Map<string, CaffeBlob[]> {
  const NetParameter = protobuf.Root.fromJSON(SCHEMA).lookupType('NetParameter');
  const net = NetParameter.toObject(NetParameter.decode(bytes), { longs: Number, arrays: true }) as DecodedNet;
  const out = new Map<string, CaffeBlob[]>();
  for (const layer of net.layer ?? []) {
    if (!layer.name || !layer.blobs?.length) continue;
    out.set(
      layer.name,
      layer.blobs.map((b) => {
        // Current caffe writes `shape`; old files wrote num/channels/height/width.
        const dims = b.shape?.dim?.length ? b.shape.dim.map(Number) : [b.num ?? 0, b.channels ?? 0, b.height ?? 0, b.width ?? 0].filter((d) => d > 0);
        const data = Float32Array.from(b.data ?? []);
        const size = dims.reduce((a, d) => a * d, 1);
        if (size !== data.length) throw new Error(`caffemodel: layer ${layer.name} blob of shape [${dims.join(',')}] holds ${data.length} values`);
        return { shape: dims, data };
      }),
    );
  }
  return out;
}
