#!/usr/bin/env bash
# Seeds the corpora and runs fuzz targets: fuzz/run.sh SECONDS [TARGET...]
# (default: every target). Needs cargo-fuzz; RUSTC_BOOTSTRAP lets the
# stable toolchain build with the sanitizer flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(loader init_image protocol)
export RUSTC_BOOTSTRAP=1

# Seeds: the example modules (objects for the loader; their bytes, and a
# valid minimal image, for init_image), and encoded requests.
objects=$(ls -d ../target/*/build/umod-examples-*/out 2>/dev/null | head -1 || true)
if [ -z "$objects" ]; then
  (cd .. && cargo build -q -p umod-examples)
  objects=$(ls -d ../target/*/build/umod-examples-*/out | head -1)
fi
mkdir -p corpus/loader corpus/init_image corpus/protocol
cp "$objects"/*.o corpus/loader/
cp "$objects"/hello.o corpus/init_image/
python3 - <<'PY'
import struct
# A valid 2.4 header for the entry the harness creates: sos 184, name at
# offset 184 ("fuzzed"), size 191.
h = bytearray(191)
struct.pack_into('<QQQQ', h, 0, 184, 0, 184, 191)
h[184:191] = b'fuzzed\0'
open('corpus/init_image/minimal', 'wb').write(h)
# Protocol seeds: the version (u16 LE), then postcard: the message kind
# as a varint, then its fields.
def frame(kind, body=b''):
    return struct.pack('<H', 4) + bytes([kind]) + body
open('corpus/protocol/status', 'wb').write(frame(6))
open('corpus/protocol/dmesg', 'wb').write(frame(2, b'\x01'))
# Call: call 3 (query), args[5] as varints, on_behalf_of 0, cap 0, tied 0,
# one region (addr 0x1000 as a varint, 4 bytes, writable).
call = frame(0, b'\x03' + bytes([0, 1, 0x80, 0x20, 64, 0x80, 0x40]) + b'\x00\x00\x00'
             + b'\x01' + bytes([0x80, 0x20]) + b'\x04abcd' + b'\x01')
open('corpus/protocol/call', 'wb').write(call)
PY
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${seconds}s"
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=4096 2>&1 | tail -n 12
done
