/**
 * WebGPU's flag values, fixed by the spec. Defined here so the engine never depends on `GPUBufferUsage` & co.
 * being installed as globals (in Node they exist only if someone copied `webgpu`'s `globals` onto globalThis).
 */
export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  QUERY_RESOLVE: 0x0200,
} as const;

export const MapMode = { READ: 0x0001, WRITE: 0x0002 } as const;

export const ShaderStage = { COMPUTE: 0x4 } as const;
