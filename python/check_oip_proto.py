#!/usr/bin/env python3
"""Check that Protos/inference/*.proto (our subset of Triton's Open Inference Protocol) is wire-compatible
with the definitions that Triton's own Python client ships (tritonclient.grpc.service_pb2 / model_config_pb2).

For every message, enum and service of package `inference` in the descriptor set: each of our fields must
exist in Triton's message with the same number, type, label and (for message and enum fields) type name;
each enum value with the same number; each RPC with the same request/response types and streaming.
Messages of grpc_service.proto must also be complete (Triton fields we lack are errors); fields dropped from
model_config.proto are only listed. Exit status 1 on any error.

    protoc -I Protos --include_imports --descriptor_set_out=/tmp/oip.pb Protos/inference/grpc_service.proto
    /tmp/tritonvenv/bin/python python/check_oip_proto.py /tmp/oip.pb [-v]

Needs `pip install 'tritonclient[grpc]'` (which needs protobuf>=6.30,<7: keep it in its own venv).
"""
import argparse
import sys

from google.protobuf import descriptor_pb2
from tritonclient.grpc import model_config_pb2, service_pb2  # noqa: F401 (registers Triton's descriptors)

PACKAGE = "inference"
POOL = service_pb2.DESCRIPTOR.pool
FDP = descriptor_pb2.FieldDescriptorProto


def label_of(field):
    """LABEL_* of a Python FieldDescriptor (proto3: repeated or optional)."""
    if hasattr(field, "is_repeated"):
        return FDP.LABEL_REPEATED if field.is_repeated else FDP.LABEL_OPTIONAL
    return field.label


def type_name_of(field):
    if field.message_type is not None:
        return "." + field.message_type.full_name
    if field.enum_type is not None:
        return "." + field.enum_type.full_name
    return ""


class Checker:
    def __init__(self, verbose):
        self.errors, self.notes, self.checked, self.verbose = [], [], 0, verbose

    def error(self, msg):
        self.errors.append(msg)

    def note(self, msg):
        self.notes.append(msg)

    def message(self, proto, full_name, must_be_complete):
        try:
            theirs = POOL.FindMessageTypeByName(full_name)
        except KeyError:
            self.error(f"{full_name}: no such message in tritonclient")
            return
        self.checked += 1
        ours_by_number = {}
        for f in proto.field:
            ours_by_number[f.number] = f
            t = theirs.fields_by_number.get(f.number)
            where = f"{full_name}.{f.name} (= {f.number})"
            if t is None:
                self.error(f"{where}: Triton has no field number {f.number}")
                continue
            if t.name != f.name:
                self.error(f"{where}: Triton calls field {f.number} '{t.name}'")
            if t.type != f.type:
                self.error(f"{where}: type {FDP.Type.Name(f.type)}, Triton {FDP.Type.Name(t.type)}")
            if label_of(t) != f.label:
                self.error(f"{where}: label {FDP.Label.Name(f.label)}, Triton {FDP.Label.Name(label_of(t))}")
            if f.type_name and f.type_name != type_name_of(t):
                self.error(f"{where}: type {f.type_name}, Triton {type_name_of(t)}")
            ours_oneof = proto.oneof_decl[f.oneof_index].name if f.HasField("oneof_index") else None
            their_oneof = t.containing_oneof.name if t.containing_oneof is not None else None
            if ours_oneof != their_oneof:
                self.error(f"{where}: oneof {ours_oneof}, Triton {their_oneof}")
        for t in theirs.fields:
            if t.number not in ours_by_number:
                msg = f"{full_name}.{t.name} (= {t.number}): Triton field not in ours"
                (self.error if must_be_complete else self.note)(msg)
        for nested in proto.nested_type:
            self.message(nested, f"{full_name}.{nested.name}", must_be_complete)
        for enum in proto.enum_type:
            self.enum(enum, f"{full_name}.{enum.name}")

    def enum(self, proto, full_name):
        try:
            theirs = POOL.FindEnumTypeByName(full_name)
        except KeyError:
            self.error(f"{full_name}: no such enum in tritonclient")
            return
        self.checked += 1
        for v in proto.value:
            t = theirs.values_by_name.get(v.name)
            if t is None or t.number != v.number:
                self.error(f"{full_name}.{v.name} = {v.number}: Triton has {t.number if t else 'no such value'}")
        missing = set(theirs.values_by_name) - {v.name for v in proto.value}
        if missing:
            self.note(f"{full_name}: Triton values not in ours: {sorted(missing)}")

    def service(self, proto, full_name):
        try:
            theirs = POOL.FindServiceByName(full_name)
        except KeyError:
            self.error(f"{full_name}: no such service in tritonclient")
            return
        self.checked += 1
        for m in proto.method:
            t = theirs.methods_by_name.get(m.name)
            where = f"{full_name}/{m.name}"
            if t is None:
                self.error(f"{where}: Triton has no such RPC")
                continue
            if m.input_type != "." + t.input_type.full_name or m.output_type != "." + t.output_type.full_name:
                self.error(f"{where}: {m.input_type} -> {m.output_type}, Triton "
                           f".{t.input_type.full_name} -> .{t.output_type.full_name}")
            t_client = getattr(t, "client_streaming", None)
            t_server = getattr(t, "server_streaming", None)
            if t_client is None:  # older protobuf: read the streaming flags from the proto form
                tp = descriptor_pb2.MethodDescriptorProto()
                t.CopyToProto(tp)
                t_client, t_server = tp.client_streaming, tp.server_streaming
            if (m.client_streaming, m.server_streaming) != (t_client, t_server):
                self.error(f"{where}: streaming {m.client_streaming}/{m.server_streaming}, "
                           f"Triton {t_client}/{t_server}")
        dropped = sorted(set(theirs.methods_by_name) - {m.name for m in proto.method})
        self.note(f"{full_name}: RPCs kept {len(proto.method)}, dropped {len(dropped)}: {', '.join(dropped)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("descriptor_set", help="protoc --include_imports --descriptor_set_out=... output")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list Triton fields we dropped")
    args = parser.parse_args()

    fds = descriptor_pb2.FileDescriptorSet()
    with open(args.descriptor_set, "rb") as f:
        fds.ParseFromString(f.read())

    checker = Checker(args.verbose)
    files = [fd for fd in fds.file if fd.package == PACKAGE]
    if not files:
        sys.exit(f"no file of package '{PACKAGE}' in {args.descriptor_set}")
    for fd in files:
        complete = fd.name.endswith("grpc_service.proto")
        for m in fd.message_type:
            checker.message(m, f"{PACKAGE}.{m.name}", complete)
        for e in fd.enum_type:
            checker.enum(e, f"{PACKAGE}.{e.name}")
        for s in fd.service:
            checker.service(s, f"{PACKAGE}.{s.name}")

    print(f"checked {checker.checked} messages/enums/services from {', '.join(fd.name for fd in files)}")
    notes = checker.notes if args.verbose else [n for n in checker.notes if "RPCs kept" in n]
    for n in notes:
        print("note:", n)
    if not args.verbose:
        dropped = sum(1 for n in checker.notes if "not in ours" in n)
        if dropped:
            print(f"note: {dropped} Triton fields/enum sets dropped from model_config.proto (-v lists them)")
    for e in checker.errors:
        print("ERROR:", e)
    print("wire-compatible: OK" if not checker.errors else f"{len(checker.errors)} mismatch(es)")
    sys.exit(1 if checker.errors else 0)


if __name__ == "__main__":
    main()
