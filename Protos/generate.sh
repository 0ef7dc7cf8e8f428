#!/usr/bin/env bash
# Regenerates Sources/NexusProtocol/ from every .proto under Protos/ (the output is committed; the package
# uses no build plugin, which would compile protoc and abseil from source).
#
#   Protos/generate.sh [PLUGIN_DIR]        # or PROTOC_PLUGINS=PLUGIN_DIR Protos/generate.sh
#
# PLUGIN_DIR holds protoc-gen-swift and protoc-gen-grpc-swift-2 (default /tmp/protoc-plugins/.build/release).
# protoc itself: `apt-get install -y protobuf-compiler`. Build the plugins once in a throwaway package:
#
#   mkdir -p /tmp/protoc-plugins/Sources/dummy && cd /tmp/protoc-plugins
#   echo 'import SwiftProtobuf' > Sources/dummy/dummy.swift
#   cat > Package.swift <<'EOF'
#   // swift-tools-version:6.0
#   import PackageDescription
#   let package = Package(
#       name: "protoc-plugins",
#       dependencies: [
#           .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
#           .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
#           .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
#       ],
#       targets: [.target(name: "dummy", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")])]
#   )
#   EOF
#   swift build -c release --product protoc-gen-swift
#   swift build -c release --product protoc-gen-grpc-swift-2
#
# Keep the plugin versions equal to the runtime versions pinned in Package.swift.
# File names: the proto path with '/' turned into '_' (inference/grpc_service.proto ->
# inference_grpc_service.pb.swift and inference_grpc_service.grpc.swift); gRPC stubs only for files
# that declare a service.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PLUGINS="${1:-${PROTOC_PLUGINS:-/tmp/protoc-plugins/.build/release}}"
OUT="$ROOT/Sources/NexusProtocol"

for tool in "$PLUGINS/protoc-gen-swift" "$PLUGINS/protoc-gen-grpc-swift-2"; do
  [[ -x "$tool" ]] || { echo "missing $tool (see the top of $0 for how to build it)" >&2; exit 1; }
done
command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }

cd "$ROOT/Protos"
mapfile -t PROTOS < <(find . -name '*.proto' -printf '%P\n' | LC_ALL=C sort)
mapfile -t SERVICES < <(grep -l -E '^[[:space:]]*service[[:space:]]' "${PROTOS[@]}" | LC_ALL=C sort)

mkdir -p "$OUT"
rm -f "$OUT"/*.pb.swift "$OUT"/*.grpc.swift

protoc -I . \
  --plugin=protoc-gen-swift="$PLUGINS/protoc-gen-swift" \
  --swift_out="$OUT" \
  --swift_opt=Visibility=Public \
  --swift_opt=FileNaming=PathToUnderscores \
  "${PROTOS[@]}"

protoc -I . \
  --plugin=protoc-gen-grpc-swift-2="$PLUGINS/protoc-gen-grpc-swift-2" \
  --grpc-swift-2_out="$OUT" \
  --grpc-swift-2_opt=Visibility=Public \
  --grpc-swift-2_opt=FileNaming=PathToUnderscores \
  "${SERVICES[@]}"

echo "generated in ${OUT#"$ROOT"/}:"
(cd "$OUT" && ls -1 *.pb.swift *.grpc.swift)
