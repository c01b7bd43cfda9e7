/**
 * Minimal protobuf wire-format reader: just what a SentencePiece `ModelProto` needs (varints, 32-bit floats,
 * length-delimited fields, skipping unknown fields). Every read is bounds-checked, so a truncated or random file
 * fails with an error instead of reading garbage or looping; `where` (the file name) is put in every message.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export class WireReader {
  pos: number;
  constructor(
    private readonly buf: Uint8Array,
    private readonly where: string,
    private readonly what: string,
    start = 0,
    private readonly end = buf.byteLength,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(msg: string): never {
    throw new Error(`${this.where}: not a valid SentencePiece model (${this.what}: ${msg} at byte ${this.pos})`);
  }

  /** A varint as a JS number: values up to 2^53 exactly; int32 fields use `int32()`. */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** proto int32: negative values are sign-extended to 10-byte varints; keep the low 32 bits as signed. */
  int32(): number {
    const start = this.pos;
    let lo = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i < 5) lo |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return lo | 0;
    }
    this.pos = start;
    return this.fail('varint longer than 10 bytes');
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  float32(): number {
    if (this.pos + 4 > this.end) this.fail('truncated float');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  /** The bytes of a length-delimited field (a view, not a copy). */
  bytes(): Uint8Array {
    const len = this.varint();
    if (len > this.end - this.pos) this.fail(`field of ${len} bytes runs past the end`);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** Reads a field key; returns [fieldNumber, wireType]. */
  key(): [number, number] {
    const k = this.varint();
    const field = Math.floor(k / 8);
    const wire = k % 8;
    if (field === 0) this.fail('field number 0');
    return [field, wire];
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        if (this.pos + 8 > this.end) this.fail('truncated 64-bit field');
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.bytes();
        return;
      case WIRE_FIXED32:
        if (this.pos + 4 > this.end) this.fail('truncated 32-bit field');
        this.pos += 4;
        return;
      default:
        // Groups (3, 4) are not used by sentencepiece_model.proto; 6 and 7 do not exist.
        this.fail(`unsupported wire type ${wire}`);
    }
  }

  /** Checks the wire type of a known field, so a field of the wrong type is an error rather than garbage. */
  expect(wire: number, want: number, name: string): void {
    if (wire !== want) this.fail(`field ${name} has wire type ${wire}, expected ${want}`);
  }

  sub(what: string): WireReader {
    const b = this.bytes();
    return new WireReader(b, this.where, what);
  }
}
