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
def frame(kind, body=b''):
    return struct.pack('<HH', 3, kind) + body
open('corpus/protocol/status', 'wb').write(frame(7))
open('corpus/protocol/dmesg', 'wb').write(frame(3, b'\x01'))
# v3 Call: call, args[5], on_behalf_of, on_behalf_cap, tied, regions.
call = frame(1, b'\x03' + struct.pack('<5QIBB', 0, 1, 0x1000, 64, 0x2000, 0, 0, 0) + struct.pack('<I', 1)
             + struct.pack('<QBI', 0x1000, 1, 4) + b'abcd')
open('corpus/protocol/call', 'wb').write(call)
PY
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${seconds}s"
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=4096 2>&1 | tail -n 12
done
