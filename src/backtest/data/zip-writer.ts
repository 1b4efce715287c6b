import { crc32, deflateRawSync } from 'node:zlib';
import { centralEntryBytes, centralEntrySignature, endOfCentralDirSignature, endRecordBytes, localHeaderBytes, localHeaderSignature, methodDeflate } from './zip.js';

// Writes a single-entry deflate zip, as data.binance.vision publishes its CSVs (the sample generator's output; the
// reader is zip.ts). Sizes and CRC in the local header, no data descriptor; PKWARE APPNOTE.TXT §4.3.

/** DOS date of 1980-01-01 00:00 (zip times are local DOS times; a fixed one keeps the sample byte-identical). */
const fixedDosDate = (0 << 9) | (1 << 5) | 1;
const versionNeeded = 20;

export function singleEntryZip(name: string, content: Buffer): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const data = deflateRawSync(content);
  const crc = crc32(content);
  const local = Buffer.alloc(localHeaderBytes);
  local.writeUInt32LE(localHeaderSignature, 0);
  local.writeUInt16LE(versionNeeded, 4);
  local.writeUInt16LE(0, 6);
  local.writeUInt16LE(methodDeflate, 8);
  local.writeUInt16LE(0, 10);
  local.writeUInt16LE(fixedDosDate, 12);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  local.writeUInt16LE(0, 28);
  const central = Buffer.alloc(centralEntryBytes);
  central.writeUInt32LE(centralEntrySignature, 0);
  central.writeUInt16LE(versionNeeded, 4);
  central.writeUInt16LE(versionNeeded, 6);
  central.writeUInt16LE(0, 8);
  central.writeUInt16LE(methodDeflate, 10);
  central.writeUInt16LE(0, 12);
  central.writeUInt16LE(fixedDosDate, 14);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.writeUInt32LE(0, 42);
  const centralOffset = local.length + nameBytes.length + data.length;
  const end = Buffer.alloc(endRecordBytes);
  end.writeUInt32LE(endOfCentralDirSignature, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, nameBytes, data, central, nameBytes, end]);
}
