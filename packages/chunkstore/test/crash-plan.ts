// The deterministic write stream of the real-process crash test, shared by the child that
// writes it and the parent that checks what survived a SIGKILL.
//
// Every write covers whole 16-byte cells; a cell holds (seq, cell index, check, magic) so any
// byte read back names the write it came from, and garbage cannot pass for a write.
export const CELL_BYTES = 16;
export const CRASH_REPLICA_BYTES = 16 * 1024 * 1024;
export const CRASH_CHUNK_BYTES = 65536;
export const FLUSH_EVERY_WRITES = 40;
export const MAX_WRITES = 200_000;
const MAGIC = 0xb0a7_c311;

export interface PlannedWrite {
  seq: number;
  offsetBytes: number;
  lengthBytes: number;
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Write number `seq` (from 1) of the stream for `seed`. */
export function plannedWrite(seed: number, seq: number): PlannedWrite {
  const r1 = mix(seed * 7919 + seq);
  const r2 = mix(r1 + 0x9e3779b9);
  const cells = CRASH_REPLICA_BYTES / CELL_BYTES;
  // Mostly small writes, some up to 64 KiB (which may span two chunks).
  const lengthCells = r2 % 8 === 0 ? 1 + (r2 % 4096) : 1 + (r2 % 512);
  const startCell = r1 % (cells - lengthCells);
  return { seq, offsetBytes: startCell * CELL_BYTES, lengthBytes: lengthCells * CELL_BYTES };
}

export function cellCheck(seq: number, cell: number): number {
  return (mix(seq * 31 + cell) ^ MAGIC) >>> 0;
}

export function writeData(w: PlannedWrite): Buffer {
  const buf = Buffer.allocUnsafe(w.lengthBytes);
  const firstCell = w.offsetBytes / CELL_BYTES;
  for (let i = 0; i < w.lengthBytes / CELL_BYTES; i++) {
    const cell = firstCell + i;
    buf.writeUInt32LE(w.seq, i * CELL_BYTES);
    buf.writeUInt32LE(cell, i * CELL_BYTES + 4);
    buf.writeUInt32LE(cellCheck(w.seq, cell), i * CELL_BYTES + 8);
    buf.writeUInt32LE(MAGIC, i * CELL_BYTES + 12);
  }
  return buf;
}

/** The write a cell's bytes name: 0 for an all-zero cell, -1 for anything malformed. */
export function decodeCell(buf: Buffer, at: number, cell: number): number {
  const seq = buf.readUInt32LE(at);
  const index = buf.readUInt32LE(at + 4);
  const check = buf.readUInt32LE(at + 8);
  const magic = buf.readUInt32LE(at + 12);
  if (seq === 0 && index === 0 && check === 0 && magic === 0) return 0;
  if (magic !== MAGIC || index !== cell || check !== cellCheck(seq, cell) || seq === 0) return -1;
  return seq;
}
